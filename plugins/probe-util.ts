// Helpers shared by the probe plugins: run a tool through a transport without ever throwing, and read numbers
// the way the tools print them ("81559 MiB", "[N/A]", "35.0°C").
import type { ProbeTransport } from "./manifest.js";

export type ToolRun = { kind: "ok"; stdout: string } | { kind: "missing"; reason: string } | { kind: "failed"; reason: string; output?: string };

/** Exit 127 is the shell's "command not found" (SSH runs through a remote shell); ENOENT is a local spawn's. */
export async function runTool(t: ProbeTransport, argv: string[], timeoutMs = 10_000): Promise<ToolRun> {
  let r;
  try {
    r = await t.exec(argv, { timeoutMs });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // Local spawns fail with ENOENT (collector/transport/local.ts words it "command not found: X").
    if (err.code === "ENOENT" || /^command not found/.test(err.message ?? "")) return { kind: "missing", reason: `${argv[0]} not found` };
    return { kind: "failed", reason: `${argv[0]}: ${firstLine(err.message ?? String(e))}` };
  }
  if (r.code === 127 || (r.code !== 0 && /(command not found|No such file or directory|not found)$/m.test(r.stderr) && !r.stdout.trim()))
    return { kind: "missing", reason: `${argv[0]} not found` };
  if (r.code !== 0) {
    const msg = firstLine(r.stderr) || firstLine(r.stdout) || `exit code ${r.code}`;
    return { kind: "failed", reason: `${argv[0]}: ${msg}`, output: `${r.stdout}\n${r.stderr}` };
  }
  return { kind: "ok", stdout: r.stdout };
}

/** First non-empty line, trimmed; tools' multi-line errors become one line. */
export function firstLine(s: string): string {
  for (const line of s.split(/\r?\n/)) {
    const t = line.trim();
    if (t && !t.startsWith("$ ")) return t;
  }
  return "";
}

/** A number from a tool's cell: strips units and brackets; N/A, "Not Supported" and blanks are undefined. */
export function num(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v !== "string") return undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(v);
  return m ? Number(m[1]) : undefined;
}

export const MIB = 1024 * 1024;

/** Bytes from "16 GB"/"7 GB" (Apple reports binary GB), "32K", "1.5 MiB". */
export function sizeToBytes(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(v);
  if (!m) return undefined;
  const pow = { "": 0, K: 1, M: 2, G: 3, T: 4 }[m[2].toUpperCase() as "" | "K" | "M" | "G" | "T"];
  return Math.round(Number(m[1]) * 1024 ** pow);
}

/** Drops undefined fields so JSON and the ledger carry only what was read. */
export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
