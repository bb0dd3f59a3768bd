#!/usr/bin/env node
// npm run build: the static site in dist/ (Observable Framework, offline). Also used by the page tests and the
// bench, which rebuild only when an input is newer than the last build (isDistStale).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const DIST = join(ROOT, "dist");
const STAMP = join(DIST, ".build-stamp");
// Everything a page can depend on (data loaders read the catalog, devices, lib/calc and evidence fixtures).
const INPUTS = ["src", "lib", "loaders", "data", "observablehq.config.ts", "test/fixtures/evidence", "package.json"];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const e of readdirSync(path)) if (e !== ".observablehq" && e !== "node_modules") t = Math.max(t, newest(join(path, e)));
  return t;
}

/** `ledger`: the ledger the fleet pages' data loaders read ($HWLEDGER_LEDGER); a build from another one is stale. */
export function isDistStale({ ledger } = {}) {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  if (ledger !== undefined && (readFileSync(STAMP, "utf8").split("\n")[1] ?? "") !== ledger) return true;
  return INPUTS.some((p) => newest(join(ROOT, p)) > built) || (ledger !== undefined && newest(ledger) > built);
}

/** Builds dist/; returns seconds taken. Throws with Framework's output when the build fails. */
export function buildSite({ quiet = false, ledger } = {}) {
  const t0 = performance.now();
  // Framework caches loader output by the loader's own mtime, not by what it reads: drop it so catalog
  // and device edits always reach the pages.
  const cache = join(ROOT, "src/pages/.observablehq/cache");
  if (existsSync(cache)) for (const e of readdirSync(cache)) if (e !== "_node") rmSync(join(cache, e), { recursive: true, force: true });
  const r = spawnSync(join(ROOT, "node_modules/.bin/observable"), ["build"], {
    cwd: ROOT,
    env: { ...process.env, ...(ledger !== undefined ? { HWLEDGER_LEDGER: ledger } : {}), OBSERVABLE_TELEMETRY_DISABLE: "true" },
    encoding: "utf8",
    stdio: quiet ? "pipe" : "inherit",
  });
  if (r.status !== 0) throw new Error(`site build failed (exit ${r.status}):\n${(r.stdout ?? "") + (r.stderr ?? "")}`.trim());
  writeFileSync(STAMP, new Date().toISOString() + "\n" + (ledger ?? "") + "\n");
  // The stamp carries the build's start time: an input edited while the build ran makes the next check stale.
  const started = new Date(Date.now() - (performance.now() - t0));
  utimesSync(STAMP, started, started);
  return (performance.now() - t0) / 1000;
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
