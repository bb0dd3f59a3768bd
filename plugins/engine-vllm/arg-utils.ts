// vLLM's argument defaults (vllm/engine/arg_utils.py EngineArgs, vllm/config/cache.py CacheConfig): what a
// deployment gets for every flag the user leaves out.
import type { Deployment, DeploymentShape, DeviceView, ModelSpec } from "../../lib/calc/index.js";
import { largeServeBatch } from "./releases.js";

const GIB = 1024 ** 3;

/** vllm/config/cache.py CacheConfig.block_size default on CUDA. */
export const VLLM_DEFAULT_BLOCK_SIZE = 16;
/** vllm/config/cache.py CacheConfig.gpu_memory_utilization default. */
export const VLLM_DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;

export interface BatchDefaults {
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
}

/**
 * EngineArgs.get_batch_defaults (arg_utils.py l. 2080 at v0.19.0, the same rule since 0.10 `_set_default_args_v1`):
 * a GPU with at least 70 GiB whose name does not contain "a100" (current_platform.get_device_total_memory /
 * get_device_name; A100s keep the small defaults, vLLM PR #17885) gets `vllm serve` (UsageContext.OPENAI_API_SERVER)
 * 8192 tokens / 1024 seqs and the LLM class 16384 / 1024; any other GPU, or one vLLM cannot query, gets 2048 / 256
 * (serve) and 8192 / 256 (LLM class). From 0.28.0 `vllm serve` on a large GPU batches 16384 tokens (largeServeBatch).
 * With no device given, the GPU memory of a `fit` budget decides and the name is taken as not an A100.
 */
export function vllmSchedulerDefaults(device?: { memoryBytes?: number; name?: string }, version?: string, entry: "serve" | "llm" = "serve"): BatchDefaults {
  const big = device?.memoryBytes !== undefined && device.memoryBytes >= 70 * GIB && !(device.name ?? "").toLowerCase().includes("a100");
  if (entry === "llm") return big ? { maxNumBatchedTokens: 16384, maxNumSeqs: 1024 } : { maxNumBatchedTokens: 8192, maxNumSeqs: 256 };
  if (!big) return { maxNumBatchedTokens: 2048, maxNumSeqs: 256 };
  return { maxNumBatchedTokens: largeServeBatch(version) ? 16384 : 8192, maxNumSeqs: 1024 };
}

/** The GPU whose defaults apply: the deployment's --device, else the memory of a `fit` budget. */
function gpuOf(dep: DeploymentShape, gpuMemoryBytes?: number): { memoryBytes?: number; name?: string } | undefined {
  const d: DeviceView | undefined = dep.options?.device;
  if (d) return { memoryBytes: d.memoryBytes, name: d.name };
  return gpuMemoryBytes !== undefined ? { memoryBytes: gpuMemoryBytes } : undefined;
}

/**
 * The max_num_batched_tokens vLLM uses when the user gives none: the scheduler default, raised for a multimodal
 * prefix-LM model to its largest item (vllm/engine/arg_utils.py: "Raising max_num_batched_tokens from %d to %d to
 * accommodate '%s' input for prefix-LM model", _get_min_mm_batched_tokens; only when the flag was not set).
 */
export function vllmDefaultBatchedTokens(model: ModelSpec, dep: DeploymentShape, gpuMemoryBytes?: number): number {
  const o = dep.options ?? {};
  return Math.max(vllmSchedulerDefaults(gpuOf(dep, gpuMemoryBytes), o.vllmVersion, o.vllmEntryPoint).maxNumBatchedTokens, model.vision?.prefixLmItemTokens ?? 0);
}

/**
 * The deployment with vLLM's scheduler defaults filled in. EngineArgs._set_default_max_num_seqs_and_batched_tokens_args
 * (arg_utils.py l. 2296 at v0.19.0): a defaulted max_num_batched_tokens is capped at max_num_seqs × max_model_len
 * (given `context`: `fit` knows it; a plan compiled for every context does not apply the cap, which only a
 * max_model_len below 8 tokens reaches), and a defaulted max_num_seqs at max_num_batched_tokens.
 */
export function effectiveOptions<D extends DeploymentShape | Deployment>(model: ModelSpec, dep: D, gpuMemoryBytes?: number, context?: number): D {
  const o = dep.options ?? {};
  const d = vllmSchedulerDefaults(gpuOf(dep, gpuMemoryBytes), o.vllmVersion, o.vllmEntryPoint);
  const seqs = o.maxNumSeqs ?? d.maxNumSeqs;
  let mnbt = o.maxNumBatchedTokens ?? vllmDefaultBatchedTokens(model, dep, gpuMemoryBytes);
  if (o.maxNumBatchedTokens === undefined && context !== undefined) mnbt = Math.min(seqs * context, mnbt);
  const maxNumSeqs = o.maxNumSeqs ?? Math.min(seqs, mnbt);
  return { ...dep, options: { ...o, maxNumBatchedTokens: mnbt, maxNumSeqs } };
}

/**
 * Bytes per element of the dtype vLLM runs the model in (ModelConfig.dtype, vllm/config/model.py): --dtype float32
 * gives 4; 16-bit checkpoints and quantized ones (which compute in their 16-bit dtype) give 2.
 */
export function modelDtypeBytes(dep: DeploymentShape): number {
  return ["f32", "fp32", "float32"].includes(dep.weights.toLowerCase()) ? 4 : 2;
}
