// Throughput roofline: decode is bound by the bytes each step must read, prefill by the FLOPs of the prompt.
// Efficiencies come from the engine per device class (not per device), so devices never benchmarked can be
// predicted; calibrate() refits them from measured runs. compileSpeed() reads the model once; speedOf() is arithmetic.
import { attentionFlops } from "./cache/index.js";
import type { DeploymentShape, DeviceClass, Efficiency, EngineModel, EngineTable } from "./engine.js";
import { assertEngine } from "./plan.js";
import type { CacheSpec, Deployment, ModelSpec } from "./types.js";
import { paramCounts, weightScheme } from "./weights.js";

/** What the speed model needs of a device (per device; tensor parallel multiplies). */
export interface DeviceCaps {
  bandwidthBytesPerSecond: number;
  /** Dense 16-bit tensor FLOP/s; undefined when no citable figure exists (prefill is then not predicted). */
  flops16?: number;
  deviceClass: DeviceClass;
}

/**
 * Default fractions of peak per device class, for engines without measurements of their own. Bandwidth: aiconfigurator's
 * systems/*.yaml carry mem_bw_empirical_scaling_factor 0.8 for NVIDIA parts (see data/devices sources). The other
 * classes' fractions and every compute fraction are assumptions, stated as such in each prediction's basis, until
 * measured runs in the ledger calibrate them (calibrate()).
 */
export const DEVICE_CLASS_EFFICIENCY: Readonly<Record<DeviceClass, Efficiency>> = {
  cuda: { bandwidth: 0.8, compute: 0.5, basis: "bandwidth 0.8 (aiconfigurator empirical scaling), compute 0.5 (assumed)" },
  rocm: { bandwidth: 0.7, compute: 0.4, basis: "bandwidth 0.7, compute 0.4 (assumed, below CUDA kernels' maturity)" },
  metal: { bandwidth: 0.55, compute: 0.5, basis: "bandwidth 0.55, compute 0.5 (assumed)" },
  cpu: { bandwidth: 0.6, compute: 0.3, basis: "bandwidth 0.6, compute 0.3 (assumed)" },
  other: { bandwidth: 0.5, compute: 0.3, basis: "bandwidth 0.5, compute 0.3 (assumed)" },
};

interface ByteProfile {
  /** Bytes read per decode step regardless of batch (all non-expert weights but the embedding table). */
  denseBytes: number;
  /** Per MoE layer: routed-expert bytes, experts, active experts. */
  moe: Array<{ bytes: number; experts: number; active: number }>;
  /** One embedding row in bytes (a decode step reads `seqs` rows, not the table). */
  embeddingRowBytes: number;
}

function byteProfile(model: ModelSpec, weights: string): ByteProfile {
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
  return { denseBytes, moe, embeddingRowBytes };
}

/**
 * Weight bytes one decode step reads for `seqs` sequences. With top-k routing, the expected number of distinct
 * experts a batch touches is E·(1 − (1 − k/E)^seqs) (independent routing per token).
 */
function decodeBytes(p: ByteProfile, seqs: number): number {
  let bytes = p.denseBytes + p.embeddingRowBytes * seqs;
  for (const l of p.moe) bytes += l.bytes * (1 - Math.pow(1 - l.active / l.experts, seqs));
  return bytes;
}

export function decodeWeightBytes(model: ModelSpec, weights: string, seqs: number): number {
  return decodeBytes(byteProfile(model, weights), seqs);
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

/** A model under one engine and deployment shape, read once for the speed model. */
export interface SpeedTable {
  shape: DeploymentShape;
  engine: EngineModel;
  kv: EngineTable;
  bytes: ByteProfile;
  activeNonEmbedding: number;
  nHeads: number;
  /** Distinct attention caches and how many layers have each (attention FLOPs are summed per group). */
  attention: Array<{ cache: CacheSpec; layers: number }>;
}

export function compileSpeed(model: ModelSpec, shape: DeploymentShape, engine: EngineModel): SpeedTable {
  assertEngine(shape, engine);
  const params = paramCounts(model);
  const groups = new Map<string, { cache: CacheSpec; layers: number }>();
  for (const l of model.layers) {
    const key = JSON.stringify(l.cache);
    const g = groups.get(key);
    if (g) g.layers++;
    else groups.set(key, { cache: l.cache, layers: 1 });
  }
  return {
    shape,
    engine,
    kv: engine.compile(model, shape),
    bytes: byteProfile(model, shape.weights),
    activeNonEmbedding: params.active - params.embedding,
    nHeads: model.nHeads,
    attention: [...groups.values()],
  };
}

/** Attention FLOPs of one token attending to `ctx` earlier tokens, all layers (QKᵀ and AV, 2 FLOPs per MAC). */
function attentionFlopsPerToken(t: SpeedTable, ctx: number): number {
  let f = 0;
  for (const g of t.attention) f += g.layers * attentionFlops(g.cache, t.nHeads, ctx);
  return f;
}

/**
 * Prefill and decode speed on `tp` copies of `device`.
 * Decode step time = max(bytes read / effective bandwidth, FLOPs / effective compute);
 * prefill time = prompt FLOPs / effective compute, never faster than reading the weights once per ubatch of 512.
 */
export function speedOf(t: SpeedTable, device: DeviceCaps, req: SpeedRequest, eff?: Efficiency & { calibrated?: boolean }): SpeedResult {
  const e = eff ?? t.engine.efficiency(device.deviceClass);
  const { tp, pp } = t.shape;
  const ranks = tp * pp;
  // Tensor parallel splits bytes and FLOPs across ranks; pipeline stages run one after another for one token.
  const bw = device.bandwidthBytesPerSecond * e.bandwidth * tp;
  const flops = device.flops16 !== undefined ? device.flops16 * e.compute * tp : undefined;
  const basis = [`efficiency: ${e.basis}`, `device class ${device.deviceClass}, ${ranks} rank(s)`];

  let decode: number | null = null;
  if (req.gen > 0 || req.prompt === 0) {
    const seqs = Math.max(1, req.seqs);
    const ctx = Math.max(1, req.prompt + Math.ceil(Math.max(req.gen, 1) / 2));
    const kv = t.kv.kvBytes(ctx, seqs);
    const bytes = decodeBytes(t.bytes, seqs) + kv;
    const memTime = bytes / bw;
    const stepFlops = seqs * (2 * t.activeNonEmbedding + attentionFlopsPerToken(t, ctx));
    const computeTime = flops ? stepFlops / flops : 0;
    decode = seqs / Math.max(memTime, computeTime);
    basis.push(`decode: ${(bytes / 1e9).toFixed(3)} GB read per step (weights touched by ${seqs} seq + KV at ${ctx} tokens)`);
  }

  let prefill: number | null = null;
  if (req.prompt > 0) {
    if (flops) {
      const n = req.prompt;
      // Causal: token i attends to i earlier tokens; summed with the mean span n/2 (exact for full attention).
      const attn = n * attentionFlopsPerToken(t, Math.ceil(n / 2));
      const total = 2 * t.activeNonEmbedding * n + attn;
      const ubatches = Math.ceil(n / 512);
      const time = Math.max(total / flops, (ubatches * decodeBytes(t.bytes, Math.min(n, 512))) / bw);
      prefill = n / time;
      basis.push(`prefill: ${(total / 1e12).toFixed(2)} TFLOP for ${n} tokens`);
    } else {
      basis.push("prefill: device has no citable compute figure; not predicted");
    }
  }
  return { prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode, calibrated: eff?.calibrated ?? false, basis };
}

export function speed(model: ModelSpec, dep: Deployment, engine: EngineModel, device: DeviceCaps, req: SpeedRequest, eff?: Efficiency & { calibrated?: boolean }): SpeedResult {
  return speedOf(compileSpeed(model, dep, engine), device, req, eff);
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
export function calibrate(runs: MeasuredRun[], engine: EngineModel, deviceClass: DeviceClass): Efficiency & { calibrated: true; runs: number } {
  const base = engine.efficiency(deviceClass);
  const ratios = { bw: [] as number[], compute: [] as number[] };
  for (const r of runs) {
    if (r.dep.engine !== engine.id || r.device.deviceClass !== deviceClass) continue;
    const p = speed(r.model, r.dep, engine, r.device, r.req, base);
    if (r.decodeTokensPerSecond && p.decodeTokensPerSecond) ratios.bw.push(r.decodeTokensPerSecond / p.decodeTokensPerSecond);
    if (r.prefillTokensPerSecond && p.prefillTokensPerSecond) ratios.compute.push(r.prefillTokensPerSecond / p.prefillTokensPerSecond);
  }
  const gmean = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : 1);
  const n = Math.max(ratios.bw.length, ratios.compute.length);
  return {
    bandwidth: Math.min(1, base.bandwidth * gmean(ratios.bw)),
    compute: Math.min(1, base.compute * gmean(ratios.compute)),
    basis: `calibrated from ${ratios.bw.length} decode and ${ratios.compute.length} prefill measurement(s) of ${engine.id} on ${deviceClass}`,
    calibrated: true,
    runs: n,
  };
}
