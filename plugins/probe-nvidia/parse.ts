// Pure parsers for nvidia-smi output. Inputs: `--query-gpu=… --format=csv[,noheader][,nounits]` and
// `--query-compute-apps=… --format=csv…` (with or without header/units: both seen in real captures), and the
// one-line errors nvidia-smi prints when the driver is not loaded or NVML does not match it.
import type { GpuProcess, GpuReading } from "../manifest.js";
import { MIB, compact, num } from "../probe-util.js";

/** The fields the runner asks for, in order (all present since driver 3xx; compute_cap left out: newer drivers only). */
export const GPU_FIELDS = [
  "index",
  "uuid",
  "name",
  "pci.bus_id",
  "driver_version",
  "memory.total",
  "memory.used",
  "utilization.gpu",
  "power.draw",
  "power.limit",
  "temperature.gpu",
] as const;

export const APP_FIELDS = ["gpu_uuid", "pid", "process_name", "used_gpu_memory"] as const;

/** Known failure lines (samples/nvidia/error-*.txt): the driver is not loaded, or NVML and driver differ. */
const FAILURES: RegExp[] = [
  /NVIDIA-SMI has failed because it couldn.t communicate with the NVIDIA driver\.(?:\s*Make sure that the latest NVIDIA driver is installed and running\.)?/,
  /Failed to initialize NVML: [^\r\n]*/,
  /No devices were found/,
  /Unable to determine the device handle for GPU[^\r\n]*/,
];

/** A failure message found in nvidia-smi's output, as one line, or undefined when the output is data. */
export function nvidiaFailure(text: string): string | undefined {
  for (const re of FAILURES) {
    const m = re.exec(text);
    // One line, with the typographic apostrophe some pastes carry made plain.
    if (m) return m[0].replace(/\s+/g, " ").replace(/[\u2018\u2019]/g, "'").trim();
  }
  return undefined;
}

/** Header cells look like "memory.total [MiB]": the field name before the unit bracket. */
function headerName(cell: string): string {
  return cell.replace(/\s*\[[^\]]*\]\s*$/, "").trim();
}

/**
 * Splits nvidia-smi CSV into rows of field -> cell. nvidia-smi does not quote cells; a process name with ", "
 * in it gives extra cells, which are joined back into `process_name`.
 */
export function parseSmiCsv(text: string, fields: readonly string[]): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) return [];
  let names = [...fields];
  const first = lines[0].split(",").map((c) => headerName(c));
  if (first.length > 0 && first.every((c) => /^[a-z_][a-z0-9_.]*$/i.test(c)) && fields.some((f) => first.includes(f))) {
    names = first;
    lines.shift();
  }
  const rows: Record<string, string>[] = [];
  for (const line of lines) {
    let cells = line.split(",").map((c) => c.trim());
    const pn = names.indexOf("process_name");
    if (cells.length > names.length && pn >= 0) {
      const extra = cells.length - names.length;
      cells = [...cells.slice(0, pn), cells.slice(pn, pn + extra + 1).join(", "), ...cells.slice(pn + extra + 1)];
    }
    const row: Record<string, string> = {};
    names.forEach((n, i) => (row[n] = cells[i] ?? ""));
    rows.push(row);
  }
  return rows;
}

function text(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === "" || /^\[?(N\/A|Not Supported|Unknown Error)\]?$/i.test(t) ? undefined : t;
}

const mib = (v: string | undefined) => {
  const n = num(text(v));
  return n === undefined ? undefined : Math.round(n * MIB);
};

/** `--query-gpu` CSV -> readings; memory in bytes (nvidia-smi reports MiB). */
export function parseQueryGpu(csv: string, fields: readonly string[] = GPU_FIELDS): GpuReading[] {
  return parseSmiCsv(csv, fields).map((r, i) =>
    compact({
      vendor: "nvidia" as const,
      index: num(text(r["index"])) ?? i,
      name: text(r["name"]) ?? "NVIDIA GPU",
      uuid: text(r["uuid"]),
      busId: text(r["pci.bus_id"]),
      driver: text(r["driver_version"]),
      memoryTotalBytes: mib(r["memory.total"]),
      memoryUsedBytes: mib(r["memory.used"]),
      utilizationPct: num(text(r["utilization.gpu"])),
      powerW: num(text(r["power.draw"])),
      powerLimitW: num(text(r["power.limit"])),
      temperatureC: num(text(r["temperature.gpu"])),
    }),
  );
}

/** `--query-compute-apps` CSV -> processes. Windows (WDDM) reports used memory as [N/A]: left undefined. */
export function parseComputeApps(csv: string, fields: readonly string[] = APP_FIELDS): GpuProcess[] {
  return parseSmiCsv(csv, fields).map((r) =>
    compact({ gpuUuid: text(r["gpu_uuid"]), pid: num(r["pid"]) ?? -1, name: text(r["process_name"]) ?? "", usedBytes: mib(r["used_gpu_memory"]) }),
  );
}
