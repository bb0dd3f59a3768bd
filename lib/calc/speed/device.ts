// What the speed model needs of a device: peak bandwidth, the memory it streams from, and the compute figures of
// data/devices/compute.json (each cited there, or its absence explained). Engines turn these into their kernels'
// rates (EngineSpeed.kernels); nothing here knows an engine.
import type { DeviceClass } from "../types.js";

/** Which llama.cpp kernels a device runs (data/devices/compute.json `kernelFamily`, with the source functions named there). */
export type KernelFamily = "cuda-turing+" | "cuda-volta" | "rocm-cdna2" | "rocm-cdna3" | "rocm-rdna3" | "metal" | "vulkan" | "sycl" | "cpu";

/** The memory a decode step streams from: GDDR, HBM, Apple unified LPDDR, other LPDDR (APUs), host DDR. */
export type MemoryClass = "gddr" | "hbm" | "unified" | "lpddr" | "ddr";

/** Compute figures per device (per logical device), each FLOP/s or operations/s; undefined when not cited. */
export interface DeviceCompute {
  vendor: "nvidia" | "amd" | "apple" | "intel" | "other";
  kernelFamily: KernelFamily;
  memoryClass: MemoryClass;
  /** Dense FP16 tensor peak with FP16 accumulate (llama.cpp's cuBLAS path on Turing and later). */
  fp16Tensor?: number;
  /** Dense FP16/BF16 tensor peak with FP32 accumulate (vLLM/PyTorch; llama.cpp on Volta, RDNA4, CDNA). */
  fp16TensorAcc32?: number;
  /** Dense INT8 tensor peak. */
  int8Tensor?: number;
  /** Non-tensor FP32 rate (Apple: cores × 128 × 2 × clock). */
  alu?: number;
  /** SMs (CUs, Xe cores) × clock, per second. */
  issueRate?: number;
  /** Apple Ultra: 2 dies over UltraFusion. */
  dies: number;
  /** Figure → why it is absent (named in a prediction that needs it). */
  missing: Readonly<Record<string, string>>;
  /** How the figures were read for the speed model (e.g. one GCD of a two-GCD board), for a prediction's basis. */
  notes?: string[];
}

/** What the speed model needs of a device (per device; tensor parallel multiplies). */
export interface DeviceCaps {
  bandwidthBytesPerSecond: number;
  deviceClass: DeviceClass;
  /** Absent for devices the catalog does not know (a fleet device without a catalog id). */
  compute?: DeviceCompute;
}

/** Memory class from the memory technology a spec sheet names ("GDDR6X", "HBM3e", "LPDDR5X", "DDR5"). */
export function memoryClassOf(memType: string, kernelFamily: KernelFamily): MemoryClass {
  const m = memType.toUpperCase();
  if (m.startsWith("HBM")) return "hbm";
  if (m.startsWith("GDDR")) return "gddr";
  if (m.startsWith("LPDDR")) return kernelFamily === "metal" ? "unified" : "lpddr";
  return "ddr";
}

/** The one-line reason a prediction names when a figure it needs is absent: which figure, and why. */
export function missingSpec(c: DeviceCompute | undefined, figure: keyof DeviceCompute, label: string): string {
  if (!c) return `${label} is unknown: the device is not in the catalog`;
  const why = c.missing[figure];
  return `${label} is missing${why ? ` (${why})` : ""}`;
}

/** PCI Express generations a host link in the catalog runs at (data/devices/host-link.json). */
export type PcieGen = 3 | 4 | 5;

/**
 * A host link's bandwidth per direction from its PCIe generation and lanes (PCI Express Base Specification: 8, 16,
 * 32 GT/s per lane for gen 3, 4, 5 with 128b/130b encoding): GT/s × lanes × 128/130 / 8 bytes.
 */
export function pcieBytesPerSecond(gen: PcieGen, lanes = 16): number {
  const gts = { 3: 8, 4: 16, 5: 32 }[gen];
  return (gts * 1e9 * lanes * 128) / 130 / 8;
}
