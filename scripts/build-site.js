#!/usr/bin/env node
// npm run build: the static site in dist/ (Observable Framework, offline). Also used by `npm start`, the page tests
// and the bench, which rebuild only when an input is newer than the last build (isDistStale). Builds are serialized
// by a lock folder and land atomically (built aside, then renamed), so a running server never serves half a site.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const DIST = join(ROOT, "dist");
const STAMP = join(DIST, ".build-stamp");
const LOCK = join(ROOT, "dist.lock");
// Everything a page can depend on (data loaders read the catalog, devices and data/evidence through loaders/, lib/
// and the engine plugins' log parsers).
const INPUTS = ["src", "lib", "loaders", "plugins", "data", "observablehq.config.ts", "package.json"];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const e of readdirSync(path)) if (e !== ".observablehq" && e !== "node_modules") t = Math.max(t, newest(join(path, e)));
  return t;
}

/**
 * `ledger`: the ledger the fleet pages' data loaders read (default $HWLEDGER_LEDGER, else the collector's default).
 * The stamp in dist/ keeps a hash of its path, not the path: dist/ is published and names nothing of this machine.
 */
const ledgerOf = (ledger) => {
  const path = ledger ?? process.env.HWLEDGER_LEDGER ?? "";
  return path && createHash("sha256").update(path).digest("hex").slice(0, 16);
};

/** Stale when an input changed, or the fleet pages were built from another ledger (e.g. the tests' one). */
export function isDistStale({ ledger } = {}) {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  const want = ledgerOf(ledger);
  if ((readFileSync(STAMP, "utf8").split("\n")[1] ?? "") !== want) return true;
  return INPUTS.some((p) => newest(join(ROOT, p)) > built) || (want !== "" && newest(want) > built);
}

function withLock(fn) {
  const sleep = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock left by a killed build (older than any build takes) is taken over.
      const since = statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs;
      if (since !== undefined && Date.now() - since > 300_000) rmSync(LOCK, { recursive: true, force: true });
      Atomics.wait(sleep, 0, 0, 250);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/**
 * Framework bundles each npm package the pages import into .observablehq/cache/_node/<name>@<version>/ and reuses a
 * bundle it finds there: seed zod's with the slim one of scripts/slim-zod.js (zod without the 40-odd message locales
 * no page uses, two thirds of its bundle).
 */
function seedSlimZod() {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts/slim-zod.js"), join(ROOT, "src/pages/.observablehq/cache/_node")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`slim zod bundle failed:\n${r.stderr}`);
}

/**
 * Framework minifies the npm bundles but ships the project's own modules (dist/_import: lib/calc, the engine
 * plugins, components) as transpiled, readable code. Minify them with Framework's own esbuild (ESM in, ESM out:
 * export names and import paths stay), a third of the JavaScript a page loads.
 */
function minifyImports(dir) {
  const esbuild = createRequire(join(ROOT, "node_modules/@observablehq/framework/package.json"))("esbuild");
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".js")) writeFileSync(p, esbuild.transformSync(readFileSync(p, "utf8"), { minify: true, format: "esm", target: "es2022", loader: "js" }).code);
    }
  };
  if (existsSync(dir)) walk(dir);
}

/** Builds dist/; returns seconds taken (0 when `ifStale` and nothing changed). Throws with Framework's output on failure. */
export function buildSite({ quiet = false, ifStale = false, ledger } = {}) {
  return withLock(() => {
    if (ifStale && !isDistStale({ ledger })) return 0;
    const t0 = performance.now();
    // Framework caches loader output by the loader's own mtime, not by what it reads: drop it (keeping the bundled
    // node_modules) so catalog and device edits always reach the pages.
    const cache = join(ROOT, "src/pages/.observablehq/cache");
    if (existsSync(cache)) for (const e of readdirSync(cache)) if (e !== "_node") rmSync(join(cache, e), { recursive: true, force: true });
    seedSlimZod();
    const out = `dist.tmp-${process.pid}`;
    rmSync(join(ROOT, out), { recursive: true, force: true });
    const r = spawnSync(join(ROOT, "node_modules/.bin/observable"), ["build"], {
      cwd: ROOT,
      env: { ...process.env, ...(ledger !== undefined ? { HWLEDGER_LEDGER: ledger } : {}), OBSERVABLE_TELEMETRY_DISABLE: "true", HWLEDGER_SITE_OUT: out },
      encoding: "utf8",
      stdio: quiet ? "pipe" : "inherit",
    });
    if (r.status !== 0) {
      rmSync(join(ROOT, out), { recursive: true, force: true });
      throw new Error(`site build failed (exit ${r.status}):\n${(r.stdout ?? "") + (r.stderr ?? "")}`.trim());
    }
    minifyImports(join(ROOT, out, "_import"));
    writeFileSync(join(ROOT, out, ".build-stamp"), new Date().toISOString() + "\n" + ledgerOf(ledger) + "\n");
    // The stamp carries the build's start time: an input edited while the build ran makes the next check stale.
    const started = new Date(Date.now() - (performance.now() - t0));
    utimesSync(join(ROOT, out, ".build-stamp"), started, started);
    const old = `${DIST}.old-${process.pid}`;
    if (existsSync(DIST)) renameSync(DIST, old);
    renameSync(join(ROOT, out), DIST);
    rmSync(old, { recursive: true, force: true });
    return (performance.now() - t0) / 1000;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const s = buildSite();
    process.stderr.write(`site built in ${s.toFixed(1)} s -> dist/\n`);
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
  }
}
