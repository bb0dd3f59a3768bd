// One-shot `hwledger collect` as cron runs it (node bin/hwledger.js collect): wall time and the process's own
// peak RSS (its high-water mark, bench/peak-rss.ts). Median wall and worst RSS of 5 calls on a ledger
// that already holds earlier samples. Goals (issue 5): under 1 s and under 120 MB.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { peakRss } from "./peak-rss.js";
import type { BenchFigure } from "./run.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export function run(): BenchFigure[] {
  const dir = mkdtempSync(join(tmpdir(), "hwledger-bench-collect-"));
  const ledger = join(dir, "ledger");
  const rss = peakRss(dir);
  const once = () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...rss.nodeArgs, join(ROOT, "bin/hwledger.js"), "collect", "--ledger", ledger], {
      encoding: "utf8",
      env: { ...process.env, XDG_STATE_HOME: join(dir, "state") },
    });
    const s = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`collect exited ${r.status}: ${r.stderr}`);
    return s;
  };
  try {
    once(); // warm the OS file cache and give the ledger a first segment
    rss.reset();
    const walls = Array.from({ length: 5 }, once).sort((a, b) => a - b);
    return [
      { name: "collect_wall_s", value: Number(walls[2].toFixed(3)), unit: "s" },
      { name: "collect_peak_rss_mb", value: rss.maxMb(), unit: "MB" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
