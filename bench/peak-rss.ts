// A child process's own peak RSS, for the benches that spawn the CLI. A preload records the process's high-water
// mark (VmHWM from /proc/self/status) at exit. Not getrusage's ru_maxrss: Linux carries the spawning process's peak
// across exec into it, so a child of an 80–130 MB bench process reported the bench's size instead of its own.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface PeakRss {
  /** Node arguments that make a child record its peak. */
  nodeArgs: string[];
  /** Forgets what was recorded so far. */
  reset(): void;
  /** The largest peak recorded, in MB (one decimal). */
  maxMb(): number;
}

export function peakRss(dir: string): PeakRss {
  const file = join(dir, "peak-rss");
  const preload = join(dir, "peak-rss.cjs");
  writeFileSync(
    preload,
    `process.on("exit", () => { const fs = require("node:fs"); let kb = process.resourceUsage().maxRSS; try { const m = /^VmHWM:\\s+(\\d+)/m.exec(fs.readFileSync("/proc/self/status", "utf8")); if (m) kb = Number(m[1]); } catch {} fs.appendFileSync(${JSON.stringify(file)}, kb + "\\n"); });\n`,
  );
  writeFileSync(file, "");
  return {
    nodeArgs: ["--require", preload],
    reset: () => writeFileSync(file, ""),
    maxMb: () => Number((Math.max(...readFileSync(file, "utf8").trim().split("\n").map(Number)) / 1024).toFixed(1)),
  };
}
