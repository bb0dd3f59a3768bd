// The device catalog: data/devices/devices.json (imported from the shared spec table with per-field sources), and each
// device as an engine sees it (data/devices/engine-memory.json): the one place --device ids resolve, for the CLI and
// the pages alike.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { InputError } from "../calc/types.js";
import type { DeviceView } from "../calc/types.js";
import { deviceClassOf } from "./device-class.js";

const GIB = 1024 ** 3;

/** Device ids, catalog and fleet alike: short, lowercase letters, digits and dashes. */
export const DEVICE_ID_RE = /^[a-z0-9][a-z0-9-]*$/;

const rowSchema = z.object({
  id: z.string().regex(DEVICE_ID_RE),
  name: z.string(),
  category: z.string(),
  memoryGb: z.number().positive().nullable(),
  memBwGbps: z.number().positive().nullable(),
  fp16Tflops: z.number().nullable(),
  fp8Tflops: z.number().nullable(),
  int8Tops: z.number().nullable(),
  tdpW: z.number().nullable(),
  gpuCores: z.number().nullable(),
  sources: z.record(z.string(), z.string()),
  conflicts: z.array(z.string()).default([]),
  notes: z.string().nullable(),
});

export interface Device {
  id: string;
  name: string;
  category: string;
  /**
   * Memory as sold in "GB" is GiB-sized DRAM (H100 80GB = 80 GiB; aiconfigurator h200_sxm.yaml gives
   * mem_capacity 151397597184 for the "141GB" H200 = 141 GiB), so bytes = GB × 2^30.
   */
  memoryBytes: number;
  /** Spec peak bandwidth, GB/s decimal × 1e9. */
  bandwidthBytesPerSecond: number | null;
  fp16Tflops: number | null;
  fp8Tflops: number | null;
  int8Tops: number | null;
  tdpW: number | null;
  gpuCores: number | null;
  /** Per-field citation, as in the imported table. */
  sources: Record<string, string>;
  notes: string | null;
}

let cache: Device[] | undefined;

/** Catalog devices with a known memory size (CPUs with system RAM of any size are left out). */
export function catalogDevices(): Device[] {
  if (cache) return cache;
  const raw = JSON.parse(readFileSync(new URL("../../data/devices/devices.json", import.meta.url), "utf8")) as { devices: unknown[] };
  cache = z
    .array(rowSchema)
    .parse(raw.devices)
    .filter((d) => d.memoryGb !== null)
    .map((d) => ({
      id: d.id,
      name: d.name,
      category: d.category,
      memoryBytes: d.memoryGb! * GIB,
      bandwidthBytesPerSecond: d.memBwGbps === null ? null : d.memBwGbps * 1e9,
      fp16Tflops: d.fp16Tflops,
      fp8Tflops: d.fp8Tflops,
      int8Tops: d.int8Tops,
      tdpW: d.tdpW,
      gpuCores: d.gpuCores,
      sources: d.sources,
      notes: d.notes,
    }));
  return cache;
}

/** Finds a device by id or exact name (case-insensitive). */
export function findDevice(ref: string): Device {
  const k = ref.trim().toLowerCase();
  const d = catalogDevices().find((x) => x.id === k || x.name.toLowerCase() === k);
  if (!d) throw new InputError(`unknown device "${ref}" (see \`hwledger devices\` for ids)`);
  return d;
}

/**
 * A fleet device's id under the catalog's contract, from the device_id a probe recorded in the ledger
 * ("vm/cpu" -> "vm-cpu", "GPU-4f1c…" -> "gpu-4f1c…"). An id already in `taken` (a catalog id, or another fleet
 * device's) gets a stable suffix from a hash of the ledger id.
 */
export function shortDeviceId(ledgerId: string, taken: ReadonlySet<string>): string {
  const base = ledgerId.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "device";
  if (!taken.has(base)) return base;
  let h = 0x811c9dc5; // FNV-1a
  for (const ch of ledgerId) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
  const hashed = `${base}-${h.toString(16).padStart(8, "0")}`;
  let id = hashed;
  for (let n = 2; taken.has(id); n++) id = `${hashed}-${n}`;
  return id;
}

const engineMemorySchema = z.object({
  about: z.string(),
  devices: z.array(
    z.strictObject({
      id: z.string().regex(DEVICE_ID_RE),
      driverName: z.string().optional(),
      totalGiB: z.number().positive(),
      printed: z.string().min(1),
      source: z.string().min(1),
      computeUnits: z.number().int().positive().optional(),
      computeUnitsSource: z.string().optional(),
    }),
  ),
});
type EngineMemoryRow = z.infer<typeof engineMemorySchema>["devices"][number];

let engineRows: Map<string, EngineMemoryRow> | undefined;
function engineMemoryRows(): Map<string, EngineMemoryRow> {
  if (engineRows) return engineRows;
  const raw = JSON.parse(readFileSync(new URL("../../data/devices/engine-memory.json", import.meta.url), "utf8"));
  engineRows = new Map(engineMemorySchema.parse(raw).devices.map((r) => [r.id, r]));
  return engineRows;
}

/** A catalog device as an engine sees it, with where its memory figure comes from. */
export interface EngineDevice extends DeviceView {
  /** Catalog name (for display; `name` is the driver's, which engine defaults test). */
  catalogName: string;
  /** The real output the memory figure is read from, or why the size as sold stands in. */
  memoryBasis: string;
  /** True when no real output gave the engine-visible total and the size as sold is used. */
  nominal: boolean;
}

/**
 * The device `ref` (catalog id or name) as an engine sees it: the total memory its runtime reports (CUDA's for an
 * NVIDIA GPU: 79.19 GiB for an H100 80GB), the driver's name, its class and compute units. Every command's --device
 * and the pages resolve devices here.
 */
export function engineDevice(ref: string): EngineDevice {
  const d = findDevice(ref);
  const row = engineMemoryRows().get(d.id);
  const base = { id: d.id, catalogName: d.name, deviceClass: deviceClassOf(d.category) };
  if (!row) {
    return { ...base, name: d.name, memoryBytes: d.memoryBytes, nominal: true, memoryBasis: `${d.name}: ${d.memoryBytes / GIB} GiB as sold (no real log or tool output of the total its runtime reports was found; the runtime sees somewhat less)` };
  }
  return {
    ...base,
    name: row.driverName ?? d.name,
    memoryBytes: Math.round(row.totalGiB * GIB),
    ...(row.computeUnits ? { computeUnits: row.computeUnits } : {}),
    nominal: false,
    memoryBasis: `${row.driverName ?? d.name}: ${row.totalGiB} GiB as the runtime reports it ("${row.printed}": ${row.source})`,
  };
}

/** Every catalog device as an engine sees it (for data loaders and pages). */
export function engineDevices(): EngineDevice[] {
  return catalogDevices().map((d) => engineDevice(d.id));
}
