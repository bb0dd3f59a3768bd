// Throughput roofline: decode is bound by the bytes each step must read, prefill by the FLOPs of the prompt.
// Efficiencies are per engine × device class (not per device), so devices never benchmarked can be predicted;
// calibrate() refits them from measured runs.
import { attentionFlops } from "./cache/index.js";
import { engineProfile } from "./engines/index.js";
import { paramCounts } from "./weights.js";
import { weightScheme } from "./weights.js";
import type { Deployment, EngineId, ModelSpec } from "./types.js";

export type DeviceClass = "cuda" | "rocm" | "metal" | "cpu" | "other";

/** What the speed model needs of a device (per device; tensor parallel multiplies). */
export interface DeviceCaps {
  bandwidthBytesPerSecond: number;
  /** Dense 16-bit tensor FLOP/s; undefined when no citable figure exists (prefill is then not predicted). */
  flops16?: number;
  deviceClass: DeviceClass;
}

export interface Efficiency {
  /** Fraction of peak memory bandwidth decode kernels reach. */
  bandwidth: number;
  /** Fraction of peak dense 16-bit FLOP/s prefill reaches. */
  compute: number;
  basis: string;
}

// Bandwidth fractions: aiconfigurator's systems/*.yaml carry mem_bw_empirical_scaling_factor 0.8 for NVIDIA parts
// (see data/devices sources). The other classes' fractions and every compute fraction are assumptions, stated as
// such in each prediction's basis, until measured runs in the ledger calibrate them (calibrate()).
const DEFAULTS: Record<DeviceClass, Efficiency> = {
  cuda: { bandwidth: 0.8, compute: 0.5, basis: "bandwidth 0.8 (aiconfigurator empirical scaling), compute 0.5 (assumed)" },
  rocm: { bandwidth: 0.7, compute: 0.4, basis: "bandwidth 0.7, compute 0.4 (assumed, below CUDA kernels' maturity)" },
  metal: { bandwidth: 0.55, compute: 0.5, basis: "bandwidth 0.55, compute 0.5 (assumed)" },
  cpu: { bandwidth: 0.6, compute: 0.3, basis: "bandwidth 0.6, compute 0.3 (assumed)" },
  other: { bandwidth: 0.5, compute: 0.3, basis: "bandwidth 0.5, compute 0.3 (assumed)" },
};

/** Engines differ mostly by kernel maturity; the per-class figures apply to all until calibrated. */
export function defaultEfficiency(_engine: EngineId, deviceClass: DeviceClass): Efficiency {
  return DEFAULTS[deviceClass];
}

interface ByteProfile {
  /** Bytes read per decode step regardless of batch (all non-expert weights but the embedding table). */
  denseBytes: number;
  /** Per MoE layer: routed-expert bytes, experts, active experts. */
  moe: Array<{ bytes: number; experts: number; active: number }>;
  /** One embedding row in bytes (a decode step reads `seqs` rows, not the table). */
  embeddingRowBytes: number;
}

const byteCache = new WeakMap<ModelSpec, Map<string, ByteProfile>>();

function byteProfile(model: ModelSpec, weights: string): ByteProfile {
  let m = byteCache.get(model);
  if (!m) byteCache.set(model, (m = new Map()));
  const hit = m.get(weights);
  if (hit) return hit;
  const bytesOf = weightScheme(weights).bytesFor(model);
  let denseBytes = 0;
  let embeddingRowBytes = 0;
  for (const t of model.globals) {
    const b = bytesOf(t, -1);
    if (t.role === "embedding") {
      embeddingRowBytes = b / (t.shape[1] ?? 1);
      // Tied embeddings: the output head multiplies by the whole table every step.
      if (model.tiedEmbeddings) denseBytes += b;
    } else denseBytes += b;
  }
  const moe: ByteProfile["moe"] = [];
  for (const l of model.layers) {
    let expert = 0;
    for (const t of l.tensors) {
      const b = bytesOf(t, l.index);
      if (t.role === "expert" && l.moe) expert += b;
      else denseBytes += b;
    }
    if (l.moe && expert > 0) moe.push({ bytes: expert, experts: l.moe.experts, active: l.moe.activeExperts });
  }
  const r = { denseBytes, moe, embeddingRowBytes };
  m.set(weights, r);
  return r;
}

/**
 * Weight bytes one decode step reads for `seqs` sequences. With top-k routing, the expected number of distinct
 * experts a batch touches is E·(1 − (1 − k/E)^seqs) (independent routing per token).
 */
export function decodeWeightBytes(model: ModelSpec, weights: string, seqs: number): number {
  const p = byteProfile(model, weights);
  let bytes = p.denseBytes + p.embeddingRowBytes * seqs;
  for (const l of p.moe) bytes += l.bytes * (1 - Math.pow(1 - l.active / l.experts, seqs));
  return bytes;
}

/** Attention FLOPs of one token attending to `ctx` earlier tokens, all layers (QKᵀ and AV, 2 FLOPs per MAC). */
function attentionFlopsPerToken(model: ModelSpec, ctx: number): number {
  let f = 0;
  for (const l of model.layers) f += attentionFlops(l.cache, model.nHeads, ctx);
  return f;
}

export interface SpeedRequest {
  /** Prompt tokens (llama-bench pp512 = prompt 512, gen 0). */
  prompt: number;
  /** Generated tokens (tg128 = prompt 0, gen 128). */
  gen: number;
  seqs: number;
}

export interface SpeedResult {
  prefillTokensPerSecond: number | null;
  decodeTokensPerSecond: number | null;
  calibrated: boolean;
  basis: string[];
}

/**
 * Predicts prefill and decode speed of `model` under `dep` on `tp` copies of `device`.
 * Decode step time = max(bytes read / effective bandwidth, FLOPs / effective compute);
 * prefill time = prompt FLOPs / effective compute, never faster than reading the weights once per ubatch of 512.
 */
export function speed(model: ModelSpec, dep: Deployment, device: DeviceCaps, req: SpeedRequest, eff?: Efficiency & { calibrated?: boolean }): SpeedResult {
  const e = eff ?? defaultEfficiency(dep.engine, device.deviceClass);
  const ranks = dep.tp * dep.pp;
  // Tensor parallel splits bytes and FLOPs across ranks; pipeline stages run one after another for one token.
  const bw = device.bandwidthBytesPerSecond * e.bandwidth * dep.tp;
  const flops = device.flops16 !== undefined ? device.flops16 * e.compute * dep.tp : undefined;
  const params = paramCounts(model);
  const activeNonEmbedding = params.active - params.embedding;
  const basis = [`efficiency: ${e.basis}`, `device class ${device.deviceClass}, ${ranks} rank(s)`];

  let decode: number | null = null;
  if (req.gen > 0 || req.prompt === 0) {
    const seqs = Math.max(1, req.seqs);
    const ctx = Math.max(1, req.prompt + Math.ceil(Math.max(req.gen, 1) / 2));
    const kv = engineProfile(dep.engine).cache(model, { ...dep, context: ctx, seqs }).total;
    const bytes = decodeWeightBytes(model, dep.weights, seqs) + kv;
    const memTime = bytes / bw;
    const stepFlops = seqs * (2 * activeNonEmbedding + attentionFlopsPerToken(model, ctx));
    const computeTime = flops ? stepFlops / flops : 0;
    decode = seqs / Math.max(memTime, computeTime);
    basis.push(`decode: ${(bytes / 1e9).toFixed(3)} GB read per step (weights touched by ${seqs} seq + KV at ${ctx} tokens)`);
  }

  let prefill: number | null = null;
  if (req.prompt > 0) {
    if (flops) {
      const n = req.prompt;
      let attn = 0;
      // Causal: token i attends to i earlier tokens; summed with the mean span n/2 (exact for full attention).
      attn = n * attentionFlopsPerToken(model, Math.ceil(n / 2));
      const total = 2 * activeNonEmbedding * n + attn;
      const ubatches = Math.ceil(n / 512);
      const t = Math.max(total / flops, (ubatches * decodeWeightBytes(model, dep.weights, Math.min(n, 512))) / bw);
      prefill = n / t;
      basis.push(`prefill: ${(total / 1e12).toFixed(2)} TFLOP for ${n} tokens`);
    } else {
      basis.push("prefill: device has no citable compute figure; not predicted");
    }
  }
  return { prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode, calibrated: eff?.calibrated ?? false, basis };
}

export interface MeasuredRun {
  model: ModelSpec;
  dep: Deployment;
  device: DeviceCaps;
  req: SpeedRequest;
  prefillTokensPerSecond?: number;
  decodeTokensPerSecond?: number;
}

/**
 * Refits the efficiencies of one engine × device class from measured runs: the prediction is linear in each
 * efficiency, so the fitted value is the default times the geometric mean of measured / predicted.
 */
export function calibrate(runs: MeasuredRun[], engine: EngineId, deviceClass: DeviceClass): Efficiency & { calibrated: true; runs: number } {
  const base = defaultEfficiency(engine, deviceClass);
  const ratios = { bw: [] as number[], compute: [] as number[] };
  for (const r of runs) {
    if (r.dep.engine !== engine || r.device.deviceClass !== deviceClass) continue;
    const p = speed(r.model, r.dep, r.device, r.req, base);
    if (r.decodeTokensPerSecond && p.decodeTokensPerSecond) ratios.bw.push(r.decodeTokensPerSecond / p.decodeTokensPerSecond);
    if (r.prefillTokensPerSecond && p.prefillTokensPerSecond) ratios.compute.push(r.prefillTokensPerSecond / p.prefillTokensPerSecond);
  }
  const gmean = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : 1);
  const n = Math.max(ratios.bw.length, ratios.compute.length);
  return {
    bandwidth: Math.min(1, base.bandwidth * gmean(ratios.bw)),
    compute: Math.min(1, base.compute * gmean(ratios.compute)),
    basis: `calibrated from ${ratios.bw.length} decode and ${ratios.compute.length} prefill measurement(s) of ${engine} on ${deviceClass}`,
    calibrated: true,
    runs: n,
  };
}

