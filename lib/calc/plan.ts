// plan(): weights + KV/state + activations + overhead for one model under one deployment. compilePlan() does the
// work that does not depend on the context or the sequence count once; planTotals() and planFrom() evaluate it.
import type { DeploymentShape, EngineModel, EngineTable } from "./engine.js";
import { InputError } from "./types.js";
import type { Deployment, DeviceRow, LayerRow, MemoryPlan, ModelSpec } from "./types.js";
import { paramCounts, weightBytes } from "./weights.js";
import type { ParamCounts, WeightBytes } from "./weights.js";

export function assertDeployment(dep: Deployment): void {
  if (isPositiveInt(dep.context) && isPositiveInt(dep.seqs) && isPositiveInt(dep.tp) && isPositiveInt(dep.pp)) return;
  for (const k of ["context", "seqs", "tp", "pp"] as const) {
    if (!isPositiveInt(dep[k])) throw new InputError(`--${k} must be a positive integer, got ${dep[k]}`);
  }
}

/** A positive integer below 2^31 (contexts, sequences and ranks all are): one SMI comparison. */
function isPositiveInt(v: number): boolean {
  return (v | 0) === v && v > 0;
}

/** The engine handed in must be the deployment's (a caller mixing them up is a bug, not bad input). */
export function assertEngine(shape: DeploymentShape, engine: EngineModel): void {
  if (shape.engine !== engine.id) throw new Error(`deployment is for ${shape.engine}, engine given is ${engine.id}`);
}

/** One model under one engine and deployment shape, compiled: evaluate any context and sequence count. */
export interface PlanTable {
  model: ModelSpec;
  shape: DeploymentShape;
  engine: EngineModel;
  kv: EngineTable;
  params: ParamCounts;
  weights: WeightBytes;
  /** Vision tower bytes counted on the first stage (0 when the engine loads it from a separate file). */
  visionBytes: number;
  weightsBytes: number;
  ranks: number;
}

export function compilePlan(model: ModelSpec, shape: DeploymentShape, engine: EngineModel): PlanTable {
  assertEngine(shape, engine);
  const params = paramCounts(model);
  const weights = weightBytes(model, shape.weights);
  const kv = engine.compile(model, shape);
  // llama.cpp keeps a vision tower in a separate mmproj GGUF, loaded only with --mmproj.
  const visionBytes = engine.loadsVision ? weights.vision : 0;
  const weightsBytes = weights.total - (engine.loadsVision ? 0 : weights.vision) + (kv.weightAdjustment?.bytes ?? 0);
  return { model, shape, engine, kv, params, weights, visionBytes, weightsBytes, ranks: shape.tp * shape.pp };
}

export interface PlanMemory {
  weightsBytes: number;
  kvCacheBytes: number;
  activationBytes: number;
  overheadBytes: number;
  totalBytes: number;
}

/** Memory totals (all ranks) at one context and sequence count. */
export function planTotals(t: PlanTable, context: number, seqs: number): PlanMemory {
  const kvCacheBytes = Math.round(t.kv.kvBytes(context, seqs));
  const activationBytes = Math.round(t.kv.activationBytes(context, seqs) * t.ranks);
  const overheadBytes = Math.round(t.kv.overheadBytes(context, seqs) * t.ranks);
  const weightsBytes = t.weightsBytes;
  return { weightsBytes, kvCacheBytes, activationBytes, overheadBytes, totalBytes: weightsBytes + kvCacheBytes + activationBytes + overheadBytes };
}

/** The per-rank total at one context and sequence count (the budget every device must meet). */
export function perRankTotal(t: PlanTable, context: number, seqs: number): number {
  return planTotals(t, context, seqs).totalBytes / t.ranks;
}

export interface PlanOptions {
  /** Per-layer rows, per-device rows, basis and warnings (off: totals only). */
  layers?: boolean;
}

/** Shared empty lists of a totals-only plan (frozen: a caller cannot fill one by mistake). */
const NONE = Object.freeze([]) as unknown as never[];

export function planFrom(t: PlanTable, context: number, seqs: number, opts: PlanOptions = { layers: true }): MemoryPlan {
  const memory = planTotals(t, context, seqs);
  const counts = t.params.rounded;
  const kv = { bytesPerToken: Math.round(t.kv.kvBytesPerToken(context, seqs)) };
  if (!opts.layers) return { params: counts, memory, kv, layers: NONE, devices: NONE, basis: NONE, warnings: NONE };
  const { model, weights: w, kv: e } = t;
  const warnings = [...model.notes, ...e.warnings];
  const over = contextOverLimit(model, context, t.engine);
  if (over) warnings.push(over);
  const adj = e.weightAdjustment;
  const basis = [`weights: ${w.scheme.basis}`, ...(adj ? [`weights: ${adj.basis}`] : []), ...e.cacheBasis, `activations: ${e.activationBasis}`, `overhead: ${e.overheadBasis}`];
  if (model.vision) {
    basis.push(
      t.engine.loadsVision
        ? `weights include the vision tower and projector (${model.vision.params} params, 16-bit): ${model.vision.basis}`
        : `weights exclude the vision tower (${model.vision.params} params): ${t.engine.label} loads it from a separate mmproj file`,
    );
  }
  const kvPerLayer = e.kvPerLayer(context, seqs);
  const layers: LayerRow[] = model.layers.map((l, i) => ({ index: l.index, kind: l.kind, kvBytes: Math.round(kvPerLayer[i]), weightBytes: Math.round(w.perLayer[i]) }));
  const devices = splitAcrossDevices(t, kvPerLayer, e.activationBytes(context, seqs), e.overheadBytes(context, seqs));
  return { params: counts, memory, kv, layers, devices, ...(e.buffers ? { buffers: e.buffers(context, seqs) } : {}), basis, warnings };
}

/**
 * A context past the model's trained limit: the engine's refusal in its own words where it refuses one (vLLM), else
 * that the model was not trained that long. `plan` warns with it; `fit` refuses it when the engine would.
 */
export function contextOverLimit(model: ModelSpec, context: number, engine: EngineModel): string | undefined {
  if (context <= model.maxContext) return undefined;
  return engine.contextRefusal?.(model, context) ?? `context ${context} is over ${model.id}'s trained context of ${model.maxContext} tokens: ${engine.label} runs it, but positions past it were never trained`;
}

export function plan(model: ModelSpec, dep: Deployment, engine: EngineModel, opts: PlanOptions = { layers: true }): MemoryPlan {
  assertDeployment(dep);
  return planFrom(compilePlan(model, dep, engine), dep.context, dep.seqs, opts);
}

/**
 * Per-rank rows: pipeline stages take contiguous, even layer ranges (vLLM get_pp_indices); tensor parallel
 * divides each stage's layers by tp. Globals go to the first (embedding) and last (output) stage.
 */
function splitAcrossDevices(t: PlanTable, kvPerLayer: number[], act: number, ovh: number): DeviceRow[] {
  const { tp, pp } = t.shape;
  const w = t.weights;
  const n = t.model.layers.length;
  const rankWeights = t.kv.rankWeights?.();
  const rows: DeviceRow[] = [];
  for (let s = 0; s < pp; s++) {
    const start = Math.floor((s * n) / pp);
    const end = Math.floor(((s + 1) * n) / pp);
    let wb = 0;
    let kb = 0;
    for (let i = start; i < end; i++) {
      wb += w.perLayer[i];
      kb += kvPerLayer[i];
    }
    if (s === 0) wb += w.globals / (pp > 1 ? 2 : 1) + t.visionBytes;
    if (s === pp - 1 && pp > 1) wb += w.globals / 2;
    const own = rankWeights?.[s];
    for (let r = 0; r < tp; r++) {
      const weightsBytes = Math.round(own ?? wb / tp);
      const kvCacheBytes = Math.round(kb / tp);
      rows.push({ rank: s * tp + r, weightsBytes, kvCacheBytes, activationBytes: Math.round(act), overheadBytes: Math.round(ovh), totalBytes: weightsBytes + kvCacheBytes + Math.round(act) + Math.round(ovh) });
    }
  }
  return rows;
}

/** The JSON contract of `plan --json` (byte values are integers). */
export function planJson(p: MemoryPlan) {
  return {
    params: p.params,
    memory: p.memory,
    kv: p.kv,
    layers: p.layers,
    devices: p.devices,
    ...(p.buffers ? { buffers: p.buffers } : {}),
    basis: p.basis,
    warnings: p.warnings,
  };
}
