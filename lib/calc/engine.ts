// What the calculator needs of an engine. Engines live in plugins/engine-*/ (each folder owns everything about its
// engine); lib/calc never imports them: callers hand the engine in. An engine compiles its memory rules for one
// model and deployment shape into a table once; contexts and sequence counts are then evaluated by arithmetic.
import type { DeviceCaps } from "./speed/device.js";
import type { Deployment, DeviceBuffers, EngineId, KvDtype, ModelSpec } from "./types.js";

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
  /** Per-device buffers when the engine places layers over the GPUs and the host itself (llama.cpp). */
  buffers?(context: number, seqs: number): DeviceBuffers[];
  /** Where the cache figures come from. */
  cacheBasis: string[];
  activationBasis: string;
  overheadBasis: string;
  warnings: string[];
}

/**
 * What an engine's kernels reach on one device for one deployment shape: every rate and cost the speed model adds up
 * (lib/calc/throughput.ts). Decode step = (weights + kvReadFactor × cache bytes) / (bandwidth × bandwidthFraction)
 * + opsPerWeight × parameters read / aluFlops + opsPerScore × scores / aluFlops + layers × layerSeconds; prefill =
 * 2 × parameters × tokens / matmulFlops + weights streamed once per micro-batch (+ an FP16 copy when dequantCopy)
 * + prompt scores × (promptBytesPerScore / bandwidth + promptOpsPerScore / aluFlops). Each engine derives these from
 * its own constants (plugins/engine-<name>/speed.ts), citing them or naming them as assumptions in `basis`.
 */
export interface Kernels {
  bandwidthFraction: number;
  layerSeconds: number;
  opsPerWeight: number;
  aluFlops: number;
  kvReadFactor: number;
  /** Without flash attention each query head reads the K/V cache on its own. */
  kvPerQueryHead: boolean;
  opsPerScore: number;
  matmulFlops: number;
  /** Prompt tokens per micro-batch: the weights are streamed once per micro-batch. */
  ubatch: number;
  /** Quantized weights are dequantized into an FP16 copy before each GEMM (written and read once per micro-batch). */
  dequantCopy: boolean;
  promptBytesPerScore: number;
  promptOpsPerScore: number;
  /** Measured ratios to another engine's kernels on the same device (1 when none): multiply the speeds. */
  decodeScale: number;
  prefillScale: number;
  /** The kernel family, the roofline that binds, and each constant's source or "assumption". */
  basis: string[];
}

/** The speed part of an engine: its kernels on a device, or the one-line reason there are none (a missing figure). */
export interface EngineSpeed {
  kernels(device: DeviceCaps, shape: DeploymentShape): Kernels | { missing: string };
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
  /** The engine's own refusal of a context over the model's limit (its wording), or undefined when it starts anyway. */
  contextRefusal?(model: ModelSpec, context: number): string | undefined;
  /** The engine's own start-up accounting for `hwledger fit`; absent: the generic KV-budget rule (solve.ts). */
  fit?(model: ModelSpec, dep: Deployment, budget: FitBudget): FitResult;
  /** The engine's speed model part (plugins/engine-<name>/speed.ts). */
  speed: EngineSpeed;
}
