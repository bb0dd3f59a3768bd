// The engine backend that drives a catalog device, from its category. Pure: the pages import it too.
import type { DeviceClass } from "../calc/index.js";

export function deviceClassOf(category: string): DeviceClass {
  if (category.startsWith("nvidia")) return "cuda";
  if (category.startsWith("amd-")) return "rocm";
  if (category.startsWith("apple")) return "metal";
  if (category === "cpu" || category === "apu") return "cpu";
  return "other";
}

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/** How much of a device's memory its GPU may hold, and why (the Metal working-set limit; other devices: all of it). */
export interface GpuMemoryLimit {
  bytes: number;
  basis?: string;
}

/**
 * macOS wires only part of unified memory for the GPU: MTLDevice.recommendedMaxWorkingSetSize, which llama.cpp's
 * ggml-metal prints at start-up and treats as the GPU's total. Printed values (ggml_metal_init): 16 GB Mac 10922.67 MiB
 * (M1: ise-uiuc/magicoder#19, abetlen/llama-cpp-python#687), 32 GB 21845.34 MB (M1 Max: ggml-org/llama.cpp#2011,
 * M2 Max: ollama/ollama#434) = 2/3 of RAM; 64 GB 49152.00 MiB (M1 Max: llama.cpp#1870), 96 GB 73728.00 MB (M2 Max:
 * llama.cpp#3213) = 3/4. The boundary between 32 and 64 GB (2/3 up to 36 GB) is the commonly cited one, not seen
 * printed. Newer macOS grants more: a 128 GB M5 Max on macOS 26 107.52 GiB (antirez/ds4#893, 0.84 of RAM), an Apple M4
 * (RAM not stated; 77.6% if 16 GB) 12713.12 MB (data/evidence/logs/llamacpp-server-gemma4-e4b-q8-metal-m4-swa-b8680.log).
 * Two points make no rule: hwledger keeps the older, smaller share and says so (test/apple-memory.test.ts reports both).
 * `sudo sysctl iogpu.wired_limit_mb=N` replaces it with N MiB (ds4#893: 114688 → "112.00 GiB").
 */
export function metalWorkingSet(ramBytes: number, wiredLimitMb?: number): GpuMemoryLimit {
  if (wiredLimitMb !== undefined) return { bytes: Math.min(ramBytes, wiredLimitMb * MIB), basis: `iogpu.wired_limit_mb=${wiredLimitMb}: the GPU may wire ${wiredLimitMb} MiB of ${ramBytes / GIB} GiB` };
  const share = ramBytes <= 36 * GIB ? 2 / 3 : 3 / 4;
  return { bytes: Math.floor(ramBytes * share), basis: `macOS GPU working set (recommendedMaxWorkingSetSize) = ${share === 3 / 4 ? "3/4" : "2/3"} of ${ramBytes / GIB} GiB unified memory; raise it with iogpu.wired_limit_mb (--wired-limit-mb)` };
}

/** The memory a GPU of this catalog category may hold: Apple's working-set limit on unified memory, else all of it. */
export function gpuMemoryLimit(category: string, memoryBytes: number, wiredLimitMb?: number): GpuMemoryLimit {
  return deviceClassOf(category) === "metal" ? metalWorkingSet(memoryBytes, wiredLimitMb) : { bytes: memoryBytes };
}
