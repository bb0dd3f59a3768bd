// The device catalog: data/devices/devices.json (imported from the shared spec table with per-field sources).
import { readFileSync } from "node:fs";
import { z } from "zod";
import { InputError } from "../calc/types.js";

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
