// Pure parsers for Linux host facts: /proc/meminfo (kB = KiB, see proc(5)) and `lscpu -J` (util-linux; both the
// older flat layout and the newer one where sub-fields sit under "children").
import type { HostReading } from "../manifest.js";
import { compact, num } from "../probe-util.js";

/** /proc/meminfo -> key -> bytes. proc(5): values are in kibibytes although printed "kB". */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^([\w()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * (line.trimEnd().endsWith("kB") ? 1024 : 1);
  }
  return out;
}

interface LscpuEntry {
  field: string;
  data: string | null;
  children?: LscpuEntry[];
}

/** `lscpu -J` -> field (without the trailing colon) -> data, children flattened. */
export function parseLscpuJson(text: string): Record<string, string> {
  const doc = JSON.parse(text) as { lscpu?: LscpuEntry[] };
  if (!doc || !Array.isArray(doc.lscpu)) throw new Error("lscpu -J: no \"lscpu\" array");
  const out: Record<string, string> = {};
  const walk = (entries: LscpuEntry[]) => {
    for (const e of entries) {
      const key = e.field.replace(/:\s*$/, "").trim();
      if (e.data !== null && e.data !== undefined && !(key in out)) out[key] = String(e.data);
      if (e.children) walk(e.children);
    }
  };
  walk(doc.lscpu);
  return out;
}

/** Host reading from the two sources; either may be absent. */
export function linuxHost(meminfo?: Record<string, number>, lscpu?: Record<string, string>): HostReading {
  const swapTotal = meminfo?.SwapTotal;
  return compact({
    os: "Linux",
    arch: lscpu?.["Architecture"],
    cpuModel: lscpu?.["Model name"],
    cpuCount: num(lscpu?.["CPU(s)"]),
    sockets: num(lscpu?.["Socket(s)"]),
    ramTotalBytes: meminfo?.MemTotal,
    ramAvailableBytes: meminfo?.MemAvailable ?? meminfo?.MemFree,
    swapTotalBytes: swapTotal,
    swapUsedBytes: swapTotal !== undefined && meminfo?.SwapFree !== undefined ? swapTotal - meminfo.SwapFree : undefined,
  });
}
