// The device catalog: data/devices/devices.json (imported from the shared spec table with per-field sources), the
// speed model's compute figures (data/devices/compute.json, each cited or its absence explained), and each device as
// an engine sees it (data/devices/engine-memory.json), its link to host memory (data/devices/host-link.json): the one
// place --device ids resolve, for the CLI and the pages.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { InputError } from "../calc/types.js";
import type { DeviceView } from "../calc/types.js";
import { pcieBytesPerSecond } from "../calc/index.js";
import type { KernelFamily, PcieGen } from "../calc/index.js";
import { deviceClassOf, gpuMemoryLimit } from "./device-class.js";

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

const COMPUTE_FIGURES = ["fp16TensorTflops", "fp16Acc32Tflops", "int8Tops", "fp32Tflops", "aluTflops", "issueGhz"] as const;
const KERNEL_FAMILIES = ["cuda-turing+", "cuda-volta", "rocm-cdna2", "rocm-cdna3", "rocm-rdna3", "metal", "vulkan", "sycl", "cpu"] as const satisfies readonly KernelFamily[];

const computeSchema = z
  .strictObject({
    kernelFamily: z.enum(KERNEL_FAMILIES),
    kernels: z.record(z.string(), z.unknown()),
    memType: z.string().min(1),
    ...Object.fromEntries(COMPUTE_FIGURES.map((f) => [f, z.number().positive().nullable()])),
    dies: z.number().int().positive().optional(),
    gpuClockGhz: z.number().positive().optional(),
    logicalDevices: z.strictObject({ count: z.number().int().min(2), source: z.string().min(1) }).optional(),
    memBwGbps: z.number().positive().optional(),
    sources: z.record(z.string(), z.string()),
    missing: z.record(z.string(), z.string().min(1)).default({}),
    conflicts: z.array(z.string()).default([]),
  })
  // Never a silent null: an absent figure says why; a present one says where it comes from.
  .superRefine((c, ctx) => {
    for (const f of COMPUTE_FIGURES) {
      const v = (c as Record<string, unknown>)[f];
      if (v === null && !c.missing[f]) ctx.addIssue({ code: "custom", message: `${f} is null without a reason in missing` });
      if (v !== null && !c.sources[f]) ctx.addIssue({ code: "custom", message: `${f} has no source` });
    }
  });
type ComputeRow = z.infer<typeof computeSchema> & Record<(typeof COMPUTE_FIGURES)[number], number | null>;

/** A device's compute figures for the speed model (FLOP/s, per second), as cited in data/devices/compute.json. */
export interface DeviceComputeFigures {
  kernelFamily: KernelFamily;
  memType: string;
  fp16TensorFlops: number | null;
  fp16Acc32Flops: number | null;
  int8Ops: number | null;
  fp32Flops: number | null;
  aluFlops: number | null;
  /** SMs (CUs, Xe cores) × clock, per second. */
  issueRate: number | null;
  dies: number;
  /** Devices the runtime sees on this board (MI250/MI250X: 2 GCDs). */
  logicalDevices: number;
  sources: Record<string, string>;
  /** Figure → why it is absent. */
  missing: Record<string, string>;
}

export interface Device {
  id: string;
  name: string;
  category: string;
  /**
   * Memory as sold in "GB" is GiB-sized DRAM (H100 80GB = 80 GiB; aiconfigurator h200_sxm.yaml gives
   * mem_capacity 151397597184 for the "141GB" H200 = 141 GiB), so bytes = GB × 2^30.
   */
  memoryBytes: number;
  /**
   * Apple: the unified memory as sold; `memoryBytes` is then the GPU's working set of it (device-class.ts
   * metalWorkingSet), which every plan, fit, dispatch and page uses.
   */
  unifiedMemoryBytes?: number;
  /** Why memoryBytes differs from the size as sold, when it does. */
  memoryNote?: string;
  /** Memory as the engine's runtime reports it (engineDevice: data/devices/engine-memory.json, else as sold; Apple: the working set). */
  engineMemoryBytes: number;
  /** The name the driver reports, where a real output shows it (vLLM's defaults test it); else the catalog name. */
  driverName: string;
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
  compute: DeviceComputeFigures;
  hostLink: HostLink;
}

/**
 * The device's link to host memory (data/devices/host-link.json): a cited PCIe link with its per-direction rate, or
 * why there is none (unified memory, the host itself, or no citable figure).
 */
export type HostLink =
  | { pcieGen: PcieGen; pcieLanes: number; bytesPerSecond: number; source: string; formFactor?: string; conflicts: string[] }
  | { missing: string };

// A link's figures are cited in `source`, or its absence is explained in `missing`: never both, never neither.
const hostLinkRowSchema = z.union([
  z.strictObject({
    pcieGen: z.union([z.literal(3), z.literal(4), z.literal(5)]),
    pcieLanes: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8), z.literal(16)]),
    source: z.string().min(1),
    formFactor: z.string().min(1).optional(),
    conflicts: z.array(z.string().min(1)).default([]),
  }),
  z.strictObject({ missing: z.string().min(1) }),
]);
export const hostLinkFileSchema = z.strictObject({
  about: z.string(),
  fields: z.record(z.string(), z.string()),
  /** Device categories whose GPU has no host link (unified memory, the host itself): the reason. */
  notApplicable: z.record(z.string(), z.string().min(1)),
  devices: z.record(z.string().regex(DEVICE_ID_RE), hostLinkRowSchema),
});

function hostLinks(): (id: string, category: string) => HostLink {
  const raw = JSON.parse(readFileSync(new URL("../../data/devices/host-link.json", import.meta.url), "utf8"));
  const r = hostLinkFileSchema.safeParse(raw);
  if (!r.success) throw new Error(`data/devices/host-link.json: ${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`);
  const { devices, notApplicable } = r.data;
  return (id, category) => {
    const row = devices[id];
    if (row && "missing" in row) return row;
    if (row) return { ...row, bytesPerSecond: pcieBytesPerSecond(row.pcieGen, row.pcieLanes) };
    if (notApplicable[category]) return { missing: `no host link: ${notApplicable[category]}` };
    throw new Error(`data/devices/host-link.json has no entry for ${id} (nor a reason for its category ${category})`);
  };
}

let cache: Device[] | undefined;
let hosts: Device[] | undefined;

function computeFigures(): Map<string, ComputeRow> {
  const raw = JSON.parse(readFileSync(new URL("../../data/devices/compute.json", import.meta.url), "utf8")) as { devices: Record<string, unknown> };
  const out = new Map<string, ComputeRow>();
  for (const [id, row] of Object.entries(raw.devices)) {
    const r = computeSchema.safeParse(row);
    if (!r.success) throw new Error(`data/devices/compute.json ${id}: ${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`);
    out.set(id, r.data as ComputeRow);
  }
  return out;
}

const T = 1e12;
function toCompute(c: ComputeRow): DeviceComputeFigures {
  const per = (v: number | null, scale: number) => (v === null ? null : v * scale);
  return {
    kernelFamily: c.kernelFamily,
    memType: c.memType,
    fp16TensorFlops: per(c.fp16TensorTflops, T),
    fp16Acc32Flops: per(c.fp16Acc32Tflops, T),
    int8Ops: per(c.int8Tops, T),
    fp32Flops: per(c.fp32Tflops, T),
    aluFlops: per(c.aluTflops, T),
    issueRate: per(c.issueGhz, 1e9),
    dies: c.dies ?? 1,
    logicalDevices: c.logicalDevices?.count ?? 1,
    sources: c.sources,
    missing: c.missing,
  };
}

/** Catalog devices with a known memory size (CPUs with system RAM of any size are left out). */
export function catalogDevices(): Device[] {
  if (!cache) load();
  return cache!;
}

/** The CPUs of the catalog (memory is whatever RAM the host has: memoryBytes 0), for the speed of host layers. */
export function hostDevices(): Device[] {
  if (!hosts) load();
  return hosts!;
}

function load(): void {
  const raw = JSON.parse(readFileSync(new URL("../../data/devices/devices.json", import.meta.url), "utf8")) as { devices: unknown[] };
  const compute = computeFigures();
  const linkOf = hostLinks();
  const all = z
    .array(rowSchema)
    .parse(raw.devices)
    .map((d) => {
      const c = compute.get(d.id);
      if (!c) throw new Error(`data/devices/compute.json has no entry for ${d.id}`);
      const bw = d.memBwGbps ?? c.memBwGbps ?? null;
      const sold = (d.memoryGb ?? 0) * GIB;
      const limit = gpuMemoryLimit(d.category, sold);
      return {
        id: d.id,
        name: d.name,
        category: d.category,
        memoryBytes: limit.bytes,
        ...(limit.basis ? { unifiedMemoryBytes: sold, memoryNote: limit.basis } : {}),
        engineMemoryBytes: engineRow(d.id) ? Math.round(engineRow(d.id)!.totalGiB * GIB) : limit.bytes,
        driverName: engineRow(d.id)?.driverName ?? d.name,
        bandwidthBytesPerSecond: bw === null ? null : bw * 1e9,
        fp16Tflops: d.fp16Tflops,
        fp8Tflops: d.fp8Tflops,
        int8Tops: d.int8Tops,
        tdpW: d.tdpW,
        gpuCores: d.gpuCores,
        sources: d.memBwGbps === null && c.memBwGbps ? { ...d.sources, mem_bw_gbps: c.sources.memBwGbps } : d.sources,
        notes: d.notes,
        compute: toCompute(c),
        hostLink: linkOf(d.id, d.category),
      };
    });
  cache = all.filter((d) => d.memoryBytes > 0);
  hosts = all.filter((d) => d.memoryBytes === 0);
}

/** Finds a device by id or exact name (case-insensitive); with `hosts`, the catalog's CPUs too (speed of host layers). */
export function findDevice(ref: string, opts: { hosts?: boolean } = {}): Device {
  const k = ref.trim().toLowerCase();
  const d = [...catalogDevices(), ...(opts.hosts ? hostDevices() : [])].find((x) => x.id === k || x.name.toLowerCase() === k);
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

const engineRow = (id: string): EngineMemoryRow | undefined => engineMemoryRows().get(id);

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
export function engineDevice(ref: string, opts: { wiredLimitMb?: number } = {}): EngineDevice {
  const d = findDevice(ref);
  const row = engineMemoryRows().get(d.id);
  const base = { id: d.id, catalogName: d.name, deviceClass: deviceClassOf(d.category) };
  // Unified memory: the GPU's share of it (lib/fleet/device-class.ts metalWorkingSet), as ggml-metal and MLX see it.
  const limit = d.unifiedMemoryBytes ? gpuMemoryLimit(d.category, d.unifiedMemoryBytes, opts.wiredLimitMb) : { bytes: d.memoryBytes };
  if (limit.basis) return { ...base, name: d.name, memoryBytes: limit.bytes, nominal: false, memoryBasis: `${d.name}: ${(limit.bytes / GIB).toFixed(2)} GiB: ${limit.basis}` };
  if (!row) {
    return { ...base, name: d.name, memoryBytes: d.memoryBytes, nominal: true, memoryBasis: `${d.name}: ${d.memoryBytes / GIB} GiB as sold (no real log or tool output of the total its runtime reports was found; the runtime sees somewhat less)` };
  }
  return {
    ...base,
    name: d.driverName,
    memoryBytes: d.engineMemoryBytes,
    ...(row.computeUnits ? { computeUnits: row.computeUnits } : {}),
    nominal: false,
    memoryBasis: `${row.driverName ?? d.name}: ${row.totalGiB} GiB as the runtime reports it ("${row.printed}": ${row.source})`,
  };
}

/** Every catalog device as an engine sees it (for data loaders and pages). */
export function engineDevices(): EngineDevice[] {
  return catalogDevices().map((d) => engineDevice(d.id));
}
