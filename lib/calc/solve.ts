// Solvers over compiled plans: max context, max sequences, KV capacity and concurrency, fewest GPUs, best
// quantization. Each compiles once and then only evaluates; the *Of variants take a table the caller holds.
import type { EngineModel, FitBudget, FitResult } from "./engine.js";
import { assertDeployment, compilePlan, perRankTotal, planTotals } from "./plan.js";
import type { PlanTable } from "./plan.js";
import { InputError } from "./types.js";
import type { Deployment, DeviceView, ModelSpec } from "./types.js";

/** Largest n in [1, hi] with fits(n) (fits monotone), or 0 when not even 1 fits. */
export function largestFitting(hi: number, fits: (n: number) => boolean): number {
  if (!fits(1)) return 0;
  let lo = 1;
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Per-rank total of a plan (the budget every device must meet). */
export function perRankBytes(model: ModelSpec, dep: Deployment, engine: EngineModel): number {
  assertDeployment(dep);
  return perRankTotal(compilePlan(model, dep, engine), dep.context, dep.seqs);
}

/** Largest context (tokens per sequence) whose per-rank total fits the budget; 0 if not even 1 token fits. */
export function maxContextOf(t: PlanTable, seqs: number, budgetBytesPerRank: number, limit = t.model.maxContext): number {
  return largestFitting(Math.max(1, limit), (ctx) => perRankTotal(t, ctx, seqs) <= budgetBytesPerRank);
}

export function maxContext(model: ModelSpec, dep: Deployment, engine: EngineModel, budgetBytesPerRank: number, limit = model.maxContext): number {
  assertDeployment(dep);
  return maxContextOf(compilePlan(model, dep, engine), dep.seqs, budgetBytesPerRank, limit);
}

/** Most sequences at `context` whose per-rank total fits `budget` (doubling, then bisection), at most `cap`. */
export function maxSeqsOf(t: PlanTable, context: number, budgetBytesPerRank: number, cap = 4096): number {
  const fits = (s: number) => perRankTotal(t, context, s) <= budgetBytesPerRank;
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = 2;
  while (hi <= cap && fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  if (hi > cap) return cap;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Largest context whose per-rank KV cache fits `kvBytesPerRank`. */
export function maxContextForKvOf(t: PlanTable, seqs: number, kvBytesPerRank: number): number {
  return largestFitting(t.model.maxContext, (ctx) => planTotals(t, ctx, seqs).kvCacheBytes / t.ranks <= kvBytesPerRank);
}

/**
 * KV capacity for a budget. Engines with their own start-up accounting (vLLM, llama.cpp) implement fit themselves;
 * the generic rule divides the per-rank KV budget by the per-rank cache bytes of one token of every sequence.
 */
export function fit(model: ModelSpec, dep: Deployment, engine: EngineModel, budget: FitBudget): FitResult {
  if (budget.kvBudgetBytes === undefined && budget.gpuMemoryBytes === undefined) throw new InputError("fit needs --kv-budget-gib or --gpu-memory-gib");
  // What the engine refuses to start, `fit` refuses too (`plan` only warns: lib/calc/plan.ts contextOverLimit).
  const refusal = dep.context > model.maxContext ? engine.contextRefusal?.(model, dep.context) : undefined;
  if (refusal) throw new InputError(refusal);
  if (engine.fit) return engine.fit(model, dep, budget);
  assertDeployment(dep);
  const t = compilePlan(model, dep, engine);
  const ranks = t.ranks;
  const p = planTotals(t, dep.context, dep.seqs);
  let available = budget.kvBudgetBytes ?? 0;
  const basis: string[] = [];
  if (budget.kvBudgetBytes === undefined) {
    const util = budget.gpuMemoryUtilization ?? 1;
    available = budget.gpuMemoryBytes! * util - (p.weightsBytes + p.activationBytes + p.overheadBytes) / ranks;
    basis.push(`KV budget = ${util} × GPU memory − weights − activations − overhead, per rank`);
  }
  if (available < 0) return { kvCapacityTokens: 0, maxConcurrency: 0, maxContext: 0, availableKvBytes: 0, basis: [...basis, "weights, activations and overhead alone exceed the memory"] };
  // Bytes per rank for one more token in every layer of one sequence, measured on the engine's own rule.
  const one = planTotals(t, dep.context, 1).kvCacheBytes / ranks;
  const perToken = one / dep.context;
  const kvCapacityTokens = perToken > 0 ? Math.floor(available / perToken) : Number.POSITIVE_INFINITY;
  const maxConcurrency = kvCapacityTokens / dep.context;
  const ctx = maxContextForKvOf(t, dep.seqs, available);
  return { kvCapacityTokens, maxConcurrency, maxContext: ctx, availableKvBytes: Math.floor(available), basis };
}

/** What fits one device (per rank, every rank alike) under one engine: the engine's own start-up accounting. */
export interface DeviceCapacity extends FitResult {
  device: string;
  /** Device memory the engine sees, bytes per rank. */
  memoryBytes: number;
  /** Whole sequences of `dep.context` tokens that fit together (the engine's concurrency, floored). */
  maxSeqs: number;
  /** The deployment (its context and sequence count) starts on this device. */
  fits: boolean;
  /** Why nothing fits, in the engine's words (e.g. vLLM: no memory left for the KV cache). */
  reason?: string;
}

/**
 * The one capacity answer: how many tokens, how long a context and how many sequences fit `device` when `engine` runs
 * `dep` there. It is `hwledger fit --device` (the engine's `fit`: vLLM's utilization, profile peak and blocks;
 * llama.cpp's buffers and 256-cell padding; the generic KV budget otherwise), with the device's memory as its runtime
 * reports it and the device in the deployment (vLLM's defaults follow the GPU). The CLI, every page, dispatch and the
 * reports ask this function; none compares plan totals with device memory on its own.
 */
export function deviceCapacity(model: ModelSpec, dep: Deployment, engine: EngineModel, device: DeviceView, gpuMemoryUtilization?: number): DeviceCapacity {
  const d: Deployment = { ...dep, options: { ...dep.options, device } };
  const budget: FitBudget = { gpuMemoryBytes: device.memoryBytes, ...(gpuMemoryUtilization !== undefined ? { gpuMemoryUtilization } : {}) };
  try {
    const r = fit(model, d, engine, budget);
    const maxSeqs = Number.isFinite(r.maxConcurrency) ? Math.floor(r.maxConcurrency + 1e-9) : dep.seqs;
    // Past the model's window, the engine has already said whether it starts (vLLM refuses in its fit; llama.cpp
    // only warns, llama-context.cpp "n_ctx_seq > n_ctx_train"): then memory alone decides.
    const contextFits = r.maxContext >= dep.context || dep.context > model.maxContext;
    return { ...r, device: device.id, memoryBytes: device.memoryBytes, maxSeqs, fits: contextFits && maxSeqs >= dep.seqs };
  } catch (e) {
    // Only "no room at all" is an answer; a deployment the engine refuses (bad input) stays an error.
    if (!(e instanceof InputError) || !/no memory for the KV cache/.test(e.message)) throw e;
    return { kvCapacityTokens: 0, maxConcurrency: 0, maxContext: 0, availableKvBytes: 0, basis: [], device: device.id, memoryBytes: device.memoryBytes, maxSeqs: 0, fits: false, reason: e.message };
  }
}

/** Fewest GPUs of `deviceBytes` each under tensor parallel (tp must divide the attention heads). */
export function fewestGpus(model: ModelSpec, dep: Deployment, engine: EngineModel, deviceBytes: number, maxTp = 64): number | undefined {
  for (let tp = 1; tp <= maxTp; tp++) {
    if (model.nHeads % tp !== 0) continue;
    if (perRankBytes(model, { ...dep, tp }, engine) <= deviceBytes) return tp;
  }
  return undefined;
}

/** Highest-precision scheme among `candidates` (ordered best first) that fits the per-rank budget. */
export function bestQuant(model: ModelSpec, dep: Deployment, engine: EngineModel, budgetBytesPerRank: number, candidates: string[]): string | undefined {
  return candidates.find((w) => perRankBytes(model, { ...dep, weights: w }, engine) <= budgetBytesPerRank);
}
