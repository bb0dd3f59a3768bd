// Solvers over compiled plans: max context, max sequences, KV capacity and concurrency, fewest GPUs, best
// quantization. Each compiles once and then only evaluates; the *Of variants take a table the caller holds.
import type { EngineModel, FitBudget, FitResult } from "./engine.js";
import { assertDeployment, compilePlan, perRankTotal, planTotals } from "./plan.js";
import type { PlanTable } from "./plan.js";
import { InputError } from "./types.js";
import type { Deployment, ModelSpec } from "./types.js";

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
  available = Math.max(0, available);
  // Bytes per rank for one more token in every layer of one sequence, measured on the engine's own rule.
  const one = planTotals(t, dep.context, 1).kvCacheBytes / ranks;
  const perToken = one / dep.context;
  const kvCapacityTokens = perToken > 0 ? Math.floor(available / perToken) : Number.POSITIVE_INFINITY;
  const maxConcurrency = kvCapacityTokens / dep.context;
  const ctx = maxContextForKvOf(t, dep.seqs, available);
  return { kvCapacityTokens, maxConcurrency, maxContext: ctx, availableKvBytes: Math.floor(available), basis };
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
