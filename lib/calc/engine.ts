// What the calculator needs of an engine. Engines live in plugins/engine-*/ (each folder owns everything about its
// engine); lib/calc never imports them: callers hand the engine in. An engine compiles its memory rules for one
// model and deployment shape into a table once; contexts and sequence counts are then evaluated by arithmetic.
import type { Deployment, DeviceClass, EngineId, KvDtype, ModelSpec } from "./types.js";

export type { DeviceClass } from "./types.js";

/** A deployment without its context and sequence count: what an engine compiles for. */
export type DeploymentShape = Omit<Deployment, "context" | "seqs">;

export interface Estimate {
  bytes: number;
  basis: string;
}

/** An engine's memory rules for one model and deployment shape. Every method is arithmetic over compiled facts. */
export interface EngineTable {
  /** KV cache and recurrent state of `seqs` sequences of `context` tokens, bytes summed over every rank. */
  kvBytes(context: number, seqs: number): number;
  /** The same per layer (summed over ranks). */
  kvPerLayer(context: number, seqs: number): number[];
  /** Bytes one more token of one sequence adds (token-proportional layers only), for display. */
  kvBytesPerToken(context: number, seqs: number): number;
  /** Peak activation / compute buffers per rank. */
  activationBytes(context: number, seqs: number): number;
  /** Fixed runtime overhead per rank (CUDA context, graphs, output buffers). */
  overheadBytes(context: number, seqs: number): number;
  /** Weight bytes the engine adds to the scheme's (e.g. vocabulary padding). */
  weightAdjustment?: Estimate;
  /** Weight bytes on each rank of each pipeline stage, when the engine has its own per-rank rule (vLLM's sharding). */
  rankWeights?(): number[];
  /** Where the cache figures come from. */
  cacheBasis: string[];
  activationBasis: string;
  overheadBasis: string;
  warnings: string[];
}

export interface Efficiency {
  /** Fraction of peak memory bandwidth decode kernels reach. */
  bandwidth: number;
  /** Fraction of peak dense 16-bit FLOP/s prefill reaches. */
  compute: number;
  basis: string;
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

export interface EngineModel {
  id: EngineId;
  label: string;
  /** Whether the engine loads a multimodal checkpoint's vision tower with the model. */
  loadsVision: boolean;
  /** What a deployment takes when the user does not say. */
  defaults: { kvDtype: KvDtype };
  compile(model: ModelSpec, shape: DeploymentShape): EngineTable;
  /** Refuses (InputError) a deployment the engine cannot start, e.g. a tensor-parallel size that does not split the heads. */
  checkDeployment?(model: ModelSpec, dep: Deployment): void;
  /** The engine's own start-up accounting for `hwledger fit`; absent: the generic KV-budget rule (solve.ts). */
  fit?(model: ModelSpec, dep: Deployment, budget: FitBudget): FitResult;
  /** Fractions of a device class's peak the engine's kernels reach (speed model defaults before calibration). */
  efficiency(deviceClass: DeviceClass): Efficiency;
}
