// The engine profile: how one engine sizes, rounds and places memory for a deployment.
import type { Deployment, EngineId, ModelSpec } from "../types.js";
import type { FitBudget, FitResult } from "../solve.js";

export interface CacheResult {
  /** Cache bytes per layer, all sequences together, summed over devices. */
  perLayer: number[];
  total: number;
  /** Bytes added per token of context for one sequence (token-proportional layers only), for display. */
  bytesPerToken: number;
  basis: string[];
}

export interface Estimate {
  bytes: number;
  basis: string;
}

export interface EngineProfile {
  id: EngineId;
  label: string;
  /** `layers` false (plan's fast path): perLayer may be left empty, only the totals are read. */
  cache(model: ModelSpec, dep: Deployment, layers?: boolean): CacheResult;
  /** Peak activation / compute buffers (per rank). */
  activations(model: ModelSpec, dep: Deployment): Estimate;
  /** Fixed runtime overhead (per rank): CUDA context, graphs, allocator slack. */
  overhead(model: ModelSpec, dep: Deployment): Estimate;
  /** Whether the engine loads a multimodal checkpoint's vision tower with the model (default true). */
  loadsVision?: boolean;
  /** Extra weight bytes the engine adds (e.g. vocabulary padding); 0 if none. */
  weightAdjustment?(model: ModelSpec, dep: Deployment): Estimate;
  warnings?(model: ModelSpec, dep: Deployment): string[];
  /** The engine's own start-up accounting for `hwledger fit` (vLLM: profile run, blocks, concurrency). */
  fit?(model: ModelSpec, dep: Deployment, budget: FitBudget): FitResult;
}
