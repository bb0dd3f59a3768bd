#!/usr/bin/env node
// Precompiles the CLI's TypeScript to JavaScript in .build/ (1:1 files, same relative layout, resources linked),
// so `hwledger` starts without a TypeScript loader: a cron `collect` stays small and fast. Run by npm's `prepare`
// on `npm install`; bin/hwledger.js uses .build/ only while it is newer than every source, else runs the
// sources through tsx. Nothing here is needed for tests or pages, which read the TypeScript directly.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const BUILD = join(ROOT, ".build");
export const STAMP = join(BUILD, ".stamp");
/** The folders the CLI runs from; `data/` is linked whole (read by path from lib/fleet). */
export const SOURCES = ["lib", "loaders", "plugins", "collector", "cli"];

function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** Newest modification time of the sources (a .build older than this is stale). */
export function newestSource() {
  let t = 0;
  for (const d of SOURCES) for (const f of walk(join(ROOT, d))) t = Math.max(t, statSync(f).mtimeMs);
  return t;
}

export function isBuildFresh() {
  return existsSync(STAMP) && statSync(STAMP).mtimeMs >= newestSource();
}

export async function buildCli() {
  const started = Date.now();
  const { build } = await import("esbuild");
  const tmp = `${BUILD}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const files = SOURCES.flatMap((d) => walk(join(ROOT, d)));
  const ts = files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
  await build({ entryPoints: ts, outdir: tmp, outbase: ROOT, format: "esm", platform: "node", target: "node20", bundle: false, logLevel: "error" });
  // Resources next to the code (catalog configs, price snapshots, the embedded llama.cpp runner) are linked, so
  // `new URL("./…", import.meta.url)` finds them from the compiled files too.
  for (const f of files.filter((f) => !f.endsWith(".ts"))) {
    const to = join(tmp, relative(ROOT, f));
    mkdirSync(dirname(to), { recursive: true });
    symlinkSync(relative(dirname(to), f), to);
  }
  symlinkSync(relative(tmp, join(ROOT, "data")), join(tmp, "data"));
  writeFileSync(join(tmp, ".stamp"), new Date(started).toISOString() + "\n");
  rmSync(BUILD, { recursive: true, force: true });
  const { renameSync, utimesSync } = await import("node:fs");
  renameSync(tmp, BUILD);
  // The stamp carries the time the build started: a source edited during the build makes it stale.
  utimesSync(STAMP, new Date(started), new Date(started));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await buildCli();
  } catch (e) {
    // The CLI still works from the sources through tsx; a failed precompile only costs start-up time.
    process.stderr.write(`build-cli: ${e.message.split("\n")[0]} (the CLI will run from the TypeScript sources)\n`);
  }
}
