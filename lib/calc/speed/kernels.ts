// Helpers engines build their kernels from (plugins/engine-<name>/speed.ts): the min of a tensor roofline and an
// instruction-issue roofline, and a plain roofline from assumed fractions for backends no measurement covers.
import type { Kernels } from "../engine.js";
import type { DeviceCaps } from "./device.js";
import { missingSpec } from "./device.js";

/** min(η × tensor peak, θ × SMs·clock): whichever bound binds (`theta` in FLOP per SM per clock). */
export function tensorRoofline(peak: number | undefined, eta: number, issueRate: number | undefined, theta: number): { flops: number; bound: "tensor" | "issue" } | undefined {
  const tensor = peak ? eta * peak : Infinity;
  const issue = issueRate ? theta * issueRate : Infinity;
  if (tensor === Infinity && issue === Infinity) return undefined;
  return tensor <= issue ? { flops: tensor, bound: "tensor" } : { flops: issue, bound: "issue" };
}

/**
 * Kernels from assumed fractions of the device's peaks: decode streams at `bandwidth` × peak bandwidth, prefill runs
 * at `compute` × the 16-bit tensor peak (else the ALU rate); no fixed, dequantization or attention costs. For
 * backends without a measurement of their own; `basis` must say the fractions are assumptions.
 */
export function assumedKernels(device: DeviceCaps, a: { bandwidth: number; compute: number; ubatch: number; basis: string }): Kernels | { missing: string } {
  const c = device.compute;
  const peak = c?.fp16Tensor ?? c?.alu;
  if (!peak) return { missing: missingSpec(c, "alu", "the ALU (FP32) rate") };
  return {
    bandwidthFraction: a.bandwidth,
    layerSeconds: 0,
    opsPerWeight: 0,
    aluFlops: c?.alu ?? peak,
    kvReadFactor: 1,
    kvPerQueryHead: false,
    opsPerScore: 0,
    matmulFlops: a.compute * peak,
    ubatch: a.ubatch,
    dequantCopy: false,
    promptBytesPerScore: 0,
    promptOpsPerScore: 0,
    decodeScale: 1,
    prefillScale: 1,
    basis: [a.basis],
  };
}
