// vLLM's argument defaults (vllm/engine/arg_utils.py EngineArgs, vllm/config/cache.py CacheConfig): what a
// deployment gets for every flag the user leaves out.
import type { Deployment, DeploymentShape, ModelSpec } from "../../lib/calc/index.js";
import { vllmAtLeast } from "./releases.js";

const GIB = 1024 ** 3;

/** vllm/config/cache.py CacheConfig.block_size default on CUDA. */
export const VLLM_DEFAULT_BLOCK_SIZE = 16;
/** vllm/config/cache.py CacheConfig.gpu_memory_utilization default. */
export const VLLM_DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;

/**
 * Scheduler defaults for `vllm serve` (UsageContext.OPENAI_API_SERVER): vllm/engine/arg_utils.py
 * EngineArgs.get_batch_defaults — 8192 tokens / 1024 seqs when the GPU has >= 70 GiB and is not an A100,
 * else 2048 / 256 (also what vLLM falls back to when it cannot query the device). From 0.28.0 the large-GPU token
 * budget is 16384 (vllm-project/vllm#51726, merged 2026-08-10; the v0.28.0 release notes list the new default).
 */
export function vllmSchedulerDefaults(gpuMemoryBytes?: number, gpuName?: string, version?: string): { maxNumBatchedTokens: number; maxNumSeqs: number } {
  const big = gpuMemoryBytes !== undefined && gpuMemoryBytes >= 70 * GIB && !(gpuName ?? "").toLowerCase().includes("a100");
  if (!big) return { maxNumBatchedTokens: 2048, maxNumSeqs: 256 };
  return { maxNumBatchedTokens: vllmAtLeast(version, 0, 28) ? 16384 : 8192, maxNumSeqs: 1024 };
}

/**
 * The max_num_batched_tokens vLLM uses when the user gives none: the scheduler default, raised for a multimodal
 * prefix-LM model to its largest item (vllm/engine/arg_utils.py: "Raising max_num_batched_tokens from %d to %d to
 * accommodate '%s' input for prefix-LM model", _get_min_mm_batched_tokens; only when the flag was not set).
 */
export function vllmDefaultBatchedTokens(model: ModelSpec, gpuMemoryBytes?: number, version?: string): number {
  return Math.max(vllmSchedulerDefaults(gpuMemoryBytes, undefined, version).maxNumBatchedTokens, model.vision?.prefixLmItemTokens ?? 0);
}

/** The deployment with vLLM's scheduler defaults filled in (for a GPU of `gpuMemoryBytes`, when known). */
export function effectiveOptions<D extends DeploymentShape | Deployment>(model: ModelSpec, dep: D, gpuMemoryBytes?: number): D {
  const d = vllmSchedulerDefaults(gpuMemoryBytes, undefined, dep.options?.vllmVersion);
  const o = dep.options ?? {};
  const mnbt = o.maxNumBatchedTokens ?? vllmDefaultBatchedTokens(model, gpuMemoryBytes, o.vllmVersion);
  return { ...dep, options: { ...o, maxNumBatchedTokens: mnbt, maxNumSeqs: o.maxNumSeqs ?? d.maxNumSeqs } };
}
