// Solvers over plan(): max context, KV capacity and concurrency, fewest GPUs, best quantization.
import { engineProfile } from "./engines/index.js";
import { plan } from "./plan.js";
import { InputError } from "./types.js";
import type { Deployment, ModelSpec } from "./types.js";

const FAST = { layers: false } as const;

/** Per-rank total of a plan (the budget every device must meet). */
export function perRankBytes(model: ModelSpec, dep: Deployment): number {
  return plan(model, dep, FAST).memory.totalBytes / (dep.tp * dep.pp);
}

/** Largest context (tokens per sequence) whose per-rank total fits the budget; 0 if not even 1 token fits. */
export function maxContext(model: ModelSpec, dep: Deployment, budgetBytesPerRank: number, limit = model.maxContext): number {
  const fits = (ctx: number) => perRankBytes(model, { ...dep, context: ctx }) <= budgetBytesPerRank;
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = Math.max(1, limit);
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export interface FitBudget {
  /** KV cache budget per rank, bytes (vLLM's "Available KV cache memory"). */
  kvBudgetBytes?: number;
  /** GPU memory per rank, bytes, as torch sees it (total). */
  gpuMemoryBytes?: number;
  gpuMemoryUtilization?: number;
}

export interface FitResult {
  kvCapacityTokens: number;
  maxConcurrency: number;
  maxContext: number;
  /** KV budget per rank the figures were computed from. */
  availableKvBytes: number;
  basis: string[];
}

/**
 * KV capacity for a budget. Engines with their own start-up accounting (vLLM) implement fit themselves;
 * the generic rule divides the per-rank KV budget by the per-rank cache bytes of one token of every sequence.
 */
export function fit(model: ModelSpec, dep: Deployment, budget: FitBudget): FitResult {
  const engine = engineProfile(dep.engine);
  if (budget.kvBudgetBytes === undefined && budget.gpuMemoryBytes === undefined) throw new InputError("fit needs --kv-budget-gib or --gpu-memory-gib");
  if (engine.fit) return engine.fit(model, dep, budget);
  const ranks = dep.tp * dep.pp;
  const p = plan(model, dep, FAST);
  let available = budget.kvBudgetBytes ?? 0;
  const basis: string[] = [];
  if (budget.kvBudgetBytes === undefined) {
    const util = budget.gpuMemoryUtilization ?? 1;
    available = budget.gpuMemoryBytes! * util - (p.memory.weightsBytes + p.memory.activationBytes + p.memory.overheadBytes) / ranks;
    basis.push(`KV budget = ${util} × GPU memory − weights − activations − overhead, per rank`);
  }
  available = Math.max(0, available);
  // Bytes per rank for one more token in every layer of one sequence, measured on the engine's own rule.
  const one = plan(model, { ...dep, seqs: 1, context: dep.context }, FAST).memory.kvCacheBytes / ranks;
  const perToken = one / dep.context;
  const kvCapacityTokens = perToken > 0 ? Math.floor(available / perToken) : Number.POSITIVE_INFINITY;
  const maxConcurrency = kvCapacityTokens / dep.context;
  const ctx = maxContextForKv(model, dep, available);
  return { kvCapacityTokens, maxConcurrency, maxContext: ctx, availableKvBytes: Math.floor(available), basis };
}

/** Largest context whose per-rank KV cache fits `kvBytesPerRank`. */
export function maxContextForKv(model: ModelSpec, dep: Deployment, kvBytesPerRank: number): number {
  const ranks = dep.tp * dep.pp;
  const fits = (ctx: number) => plan(model, { ...dep, context: ctx }, FAST).memory.kvCacheBytes / ranks <= kvBytesPerRank;
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = model.maxContext;
  if (fits(hi)) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Fewest GPUs of `deviceBytes` each under tensor parallel (tp must divide the attention heads). */
export function fewestGpus(model: ModelSpec, dep: Deployment, deviceBytes: number, maxTp = 64): number | undefined {
  for (let tp = 1; tp <= maxTp; tp++) {
    if (model.nHeads % tp !== 0) continue;
    if (perRankBytes(model, { ...dep, tp }) <= deviceBytes) return tp;
  }
  return undefined;
}

/** Highest-precision scheme among `candidates` (ordered best first) that fits the per-rank budget. */
export function bestQuant(model: ModelSpec, dep: Deployment, budgetBytesPerRank: number, candidates: string[]): string | undefined {
  return candidates.find((w) => perRankBytes(model, { ...dep, weights: w }) <= budgetBytesPerRank);
}
