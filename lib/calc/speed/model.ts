// The speed model's terms for one segment (a contiguous range of layers on one device): seconds of one decode step
// and of one prompt, from the engine's kernels on that device (engine.ts Kernels). Pure arithmetic over a compiled
// table; composing segments (GPU layers + host layers, pipeline stages) is summing their seconds.
import type { Kernels } from "../engine.js";
import type { DeviceCaps } from "./device.js";
import { activeParams, decodeAttention, promptScores, weightsRead } from "./table.js";
import type { LayerRange, SpeedShapeTable } from "./table.js";

export interface DecodeTerms {
  /** Seconds of one step of `seqs` sequences. */
  seconds: number;
  /** Bytes the step streams (weights + cache). */
  bytes: number;
  /** Which bound the step is at: the sum of its terms, or the matmul rate for a large batch. */
  bound: "terms" | "matmul";
}

/**
 * One decode step of `seqs` sequences at `ctx` cached tokens each on `tp` copies of a device:
 * t = (W + κ·KV)/(B·f) + δ·P/A + ω·scores/A + layers·τ, never faster than the batch's matmuls at the prefill rate.
 * Tensor parallel splits bytes and FLOPs over the ranks; each rank still runs every layer (τ is not divided).
 */
export function decodeSeconds(t: SpeedShapeTable, r: LayerRange, device: DeviceCaps, k: Kernels, ctx: number, seqs: number, tp: number): DecodeTerms {
  const w = weightsRead(t, r, seqs, seqs);
  const att = decodeAttention(t, r, ctx, k.kvPerQueryHead);
  const bytes = w.bytes + k.kvReadFactor * att.bytes * seqs;
  const terms =
    bytes / (device.bandwidthBytesPerSecond * k.bandwidthFraction * tp) +
    (k.opsPerWeight * w.params) / (k.aluFlops * tp) +
    (k.opsPerScore * att.scores * seqs) / (k.aluFlops * tp) +
    (r.to - r.from) * k.layerSeconds;
  const matmul = (2 * activeParams(t, r) * seqs) / (k.matmulFlops * tp);
  return matmul > terms ? { seconds: matmul, bytes, bound: "matmul" } : { seconds: terms, bytes, bound: "terms" };
}

export interface PrefillTerms {
  seconds: number;
  flops: number;
  /** Micro-batches the prompt is cut into. */
  ubatches: number;
}

/**
 * A prompt of `n` tokens after `depth` cached ones: t = 2·P·n/R + U·W/B (+ U·(W + 2P)/B with a dequantized FP16 copy)
 * + scores·(bytes per score / B + ops per score / A), U = ceil(n / ubatch).
 */
export function prefillSeconds(t: SpeedShapeTable, r: LayerRange, device: DeviceCaps, k: Kernels, n: number, depth: number, tp: number): PrefillTerms {
  const ubatches = Math.ceil(n / k.ubatch);
  const w = weightsRead(t, r, Math.min(n, k.ubatch), 1);
  const flops = 2 * activeParams(t, r) * n;
  const B = device.bandwidthBytesPerSecond * tp;
  let seconds = flops / (k.matmulFlops * tp) + (ubatches * w.bytes) / B;
  if (k.dequantCopy) seconds += (ubatches * (w.bytes + 2 * w.params)) / B;
  const scores = promptScores(t, r, n, depth);
  seconds += scores * (k.promptBytesPerScore / B + k.promptOpsPerScore / (k.aluFlops * tp));
  return { seconds, flops, ubatches };
}
