// Pure parsers for Apple Silicon hosts: `system_profiler SPHardwareDataType SPDisplaysDataType -json`,
// `sysctl <names>` ("name: value" lines) and one `macmon pipe` JSON line (power in W, usage as [MHz, ratio]).
import type { GpuReading, HostReading } from "../manifest.js";
import { compact, num, sizeToBytes } from "../probe-util.js";

export interface SystemProfiler {
  SPHardwareDataType?: Array<Record<string, unknown>>;
  SPDisplaysDataType?: Array<Record<string, unknown>>;
}

export function parseSystemProfiler(text: string): SystemProfiler {
  const doc = JSON.parse(text) as SystemProfiler;
  if (!doc || typeof doc !== "object") throw new Error("system_profiler: not a JSON object");
  return doc;
}

/** `sysctl a b c` -> {a: "…"}; also accepts `sysctl -a` excerpts. */
export function parseSysctl(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([\w.]+):\s?(.*)$/.exec(line.trimEnd());
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

export interface MacmonSample {
  gpuPowerW?: number;
  cpuPowerW?: number;
  gpuUtilizationPct?: number;
  gpuTemperatureC?: number;
  ramTotalBytes?: number;
  ramUsedBytes?: number;
  swapTotalBytes?: number;
  swapUsedBytes?: number;
}

/** The last JSON object line of `macmon pipe` output. */
export function parseMacmon(text: string): MacmonSample | undefined {
  const lines = text.split("\n").filter((l) => l.trim().startsWith("{"));
  if (lines.length === 0) return undefined;
  const s = JSON.parse(lines[lines.length - 1]) as Record<string, any>;
  const usage = Array.isArray(s.gpu_usage) ? num(s.gpu_usage[1]) : undefined;
  const temp = num(s.temp?.gpu_temp_avg);
  return compact({
    gpuPowerW: num(s.gpu_power),
    cpuPowerW: num(s.cpu_power),
    gpuUtilizationPct: usage === undefined ? undefined : usage * 100,
    // macmon prints 0.0 when the sensor is not read (beszel#1796 sample); 0 °C is no reading.
    gpuTemperatureC: temp ? temp : undefined,
    ramTotalBytes: num(s.memory?.ram_total),
    ramUsedBytes: num(s.memory?.ram_usage),
    swapTotalBytes: num(s.memory?.swap_total),
    swapUsedBytes: num(s.memory?.swap_usage),
  });
}

/** "proc 18:6:0:12" (total first) or a plain count. */
function processors(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string") return num(v.replace(/^proc\s+/, ""));
  return undefined;
}

export function appleHost(sp?: SystemProfiler, sysctl?: Record<string, string>, mm?: MacmonSample): HostReading {
  const hw = sp?.SPHardwareDataType?.[0] ?? {};
  const ram = num(sysctl?.["hw.memsize"]) ?? sizeToBytes(hw["physical_memory"] as string | undefined);
  return compact({
    os: "Darwin",
    arch: "arm64",
    cpuModel: sysctl?.["machdep.cpu.brand_string"] ?? (hw["chip_type"] as string | undefined),
    cpuCount: num(sysctl?.["hw.ncpu"]) ?? processors(hw["number_processors"]),
    machineModel: sysctl?.["hw.model"] ?? (hw["machine_model"] as string | undefined),
    ramTotalBytes: ram,
    ramAvailableBytes: mm?.ramTotalBytes !== undefined && mm.ramUsedBytes !== undefined ? mm.ramTotalBytes - mm.ramUsedBytes : undefined,
    swapTotalBytes: mm?.swapTotalBytes,
    swapUsedBytes: mm?.swapUsedBytes,
    cpuPowerW: mm?.cpuPowerW,
  });
}

/** The integrated GPU(s): shares RAM with the CPU, so memory total is the host's and used is what macmon saw. */
export function appleGpus(sp?: SystemProfiler, host?: HostReading, mm?: MacmonSample): GpuReading[] {
  const displays = (sp?.SPDisplaysDataType ?? []).filter((d) => d["sppci_device_type"] === "spdisplays_gpu" || d["sppci_model"]);
  return displays.map((d, i) =>
    compact({
      vendor: "apple" as const,
      index: i,
      name: String(d["sppci_model"] ?? d["_name"] ?? "Apple GPU"),
      cores: num(d["sppci_cores"]),
      unifiedMemory: true,
      memoryTotalBytes: host?.ramTotalBytes,
      memoryUsedBytes: mm?.ramUsedBytes,
      utilizationPct: mm?.gpuUtilizationPct,
      powerW: mm?.gpuPowerW,
      temperatureC: mm?.gpuTemperatureC,
    }),
  );
}
