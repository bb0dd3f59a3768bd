// plan(): weights + KV/state + activations + overhead for one model under one deployment.
import { engineProfile } from "./engines/index.js";
import { paramCounts, weightBytes } from "./weights.js";
import type { WeightBytes } from "./weights.js";
import { InputError } from "./types.js";
import type { Deployment, DeviceRow, LayerRow, MemoryPlan, ModelSpec } from "./types.js";

export function assertDeployment(dep: Deployment): void {
  // One cheap test on the hot path (plan() runs in sliders and sweeps); the messages only when it fails.
  if (isPositiveInt(dep.context) && isPositiveInt(dep.seqs) && isPositiveInt(dep.tp) && isPositiveInt(dep.pp)) return;
  for (const k of ["context", "seqs", "tp", "pp"] as const) {
    if (!isPositiveInt(dep[k])) throw new InputError(`--${k} must be a positive integer, got ${dep[k]}`);
  }
}

/** A positive integer below 2^31 (contexts, sequences and ranks all are): one SMI comparison. */
function isPositiveInt(v: number): boolean {
  return (v | 0) === v && v > 0;
}

export interface PlanOptions {
  /** Per-layer rows (off for the fast path used by sliders and solvers). */
  layers?: boolean;
}

/** Shared empty lists of the fast path (frozen: a caller cannot fill one by mistake). */
const NONE = Object.freeze([]) as unknown as never[];

export function plan(model: ModelSpec, dep: Deployment, opts: PlanOptions = { layers: true }): MemoryPlan {
  assertDeployment(dep);
  const engine = engineProfile(dep.engine);
  const params = paramCounts(model);
  const w = weightBytes(model, dep.weights);
  const adj = engine.weightAdjustment?.(model, dep);
  // llama.cpp keeps a vision tower in a separate mmproj GGUF, loaded only with --mmproj.
  const visionLoaded = engine.loadsVision !== false;
  const weightsBytes = w.total - (visionLoaded ? 0 : w.vision) + (adj?.bytes ?? 0);
  const cache = engine.cache(model, dep, opts.layers !== false);
  const act = engine.activations(model, dep);
  const ovh = engine.overhead(model, dep);
  const ranks = dep.tp * dep.pp;
  const kvCacheBytes = Math.round(cache.total);
  const activationBytes = Math.round(act.bytes * ranks);
  const overheadBytes = Math.round(ovh.bytes * ranks);
  const totalBytes = weightsBytes + kvCacheBytes + activationBytes + overheadBytes;
  const memory = { weightsBytes, kvCacheBytes, activationBytes, overheadBytes, totalBytes };
  const counts = params.rounded;
  // The fast path (sliders, solvers, sweeps) needs totals only: no per-layer rows, no prose.
  if (!opts.layers) return { params: counts, memory, kv: { bytesPerToken: Math.round(cache.bytesPerToken) }, layers: NONE, devices: NONE, basis: NONE, warnings: NONE };
  const warnings = [...model.notes, ...(engine.warnings?.(model, dep) ?? [])];
  const basis = [`weights: ${w.scheme.basis}`, ...(adj ? [`weights: ${adj.basis}`] : []), ...cache.basis, `activations: ${act.basis}`, `overhead: ${ovh.basis}`];
  if (model.vision) {
    basis.push(
      visionLoaded
        ? `weights include the vision tower and projector (${model.vision.params} params, 16-bit): ${model.vision.basis}`
        : `weights exclude the vision tower (${model.vision.params} params): ${engine.label} loads it from a separate mmproj file`,
    );
  }
  const layers: LayerRow[] = model.layers.map((l, i) => ({ index: l.index, kind: l.kind, kvBytes: Math.round(cache.perLayer[i]), weightBytes: Math.round(w.perLayer[i]) }));
  const devices: DeviceRow[] = splitAcrossDevices(model, dep, w, visionLoaded ? w.vision : 0, cache.perLayer, act.bytes, ovh.bytes);
  return { params: counts, memory, kv: { bytesPerToken: Math.round(cache.bytesPerToken) }, layers, devices, basis, warnings };
}

/**
 * Per-rank rows: pipeline stages take contiguous, even layer ranges (vLLM get_pp_indices); tensor parallel
 * divides each stage's layers by tp. Globals go to the first (embedding) and last (output) stage.
 */
function splitAcrossDevices(model: ModelSpec, dep: Deployment, w: WeightBytes, vision: number, kvPerLayer: number[], act: number, ovh: number): DeviceRow[] {
  const n = model.layers.length;
  const rows: DeviceRow[] = [];
  for (let s = 0; s < dep.pp; s++) {
    const start = Math.floor((s * n) / dep.pp);
    const end = Math.floor(((s + 1) * n) / dep.pp);
    let wb = 0;
    let kb = 0;
    for (let i = start; i < end; i++) {
      wb += w.perLayer[i];
      kb += kvPerLayer[i];
    }
    if (s === 0) wb += w.globals / (dep.pp > 1 ? 2 : 1) + vision;
    if (s === dep.pp - 1 && dep.pp > 1) wb += w.globals / 2;
    for (let t = 0; t < dep.tp; t++) {
      const weightsBytes = Math.round(wb / dep.tp);
      const kvCacheBytes = Math.round(kb / dep.tp);
      rows.push({ rank: s * dep.tp + t, weightsBytes, kvCacheBytes, activationBytes: Math.round(act), overheadBytes: Math.round(ovh), totalBytes: weightsBytes + kvCacheBytes + Math.round(act) + Math.round(ovh) });
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
    basis: p.basis,
    warnings: p.warnings,
  };
}
