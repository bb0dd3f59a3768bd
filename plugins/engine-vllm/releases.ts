// vLLM release gates: which start-up rules a given release (EngineOptions.vllmVersion, `fit --vllm-version`) follows.
// Absent: the 0.10–0.20 behaviour the start-up replay is checked on. Each gate names the change that introduced it.
import { InputError } from "../../lib/calc/index.js";

/** "0.25.1" → 2501 (minor × 100 + patch, major × 10⁶); malformed → InputError. */
function releaseKey(version: string): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) throw new InputError(`vLLM version "${version}" is not of the form MAJOR.MINOR[.PATCH]`);
  return Number(m[1]) * 1e6 + Number(m[2]) * 100 + Number(m[3] ?? 0);
}

/** Whether `version` (absent = the 0.10–0.20 behaviour) is at least MAJOR.MINOR.PATCH. */
export function vllmAtLeast(version: string | undefined, major: number, minor: number, patch = 0): boolean {
  if (!version) return false;
  return releaseKey(version) >= major * 1e6 + minor * 100 + patch;
}

/**
 * Tokens a recycling-aware (sliding-window / chunked-local) KV group reserves per request beyond its window.
 * Up to 0.25: max_num_batched_tokens. From 0.26.0 (vllm-project/vllm#47728, "Free out-of-window blocks on the
 * processed-token basis under async scheduling"; vllm#49878 traces the Gemma 4 jump between 0.25.1 and 0.26 to it):
 * vllm/config/vllm.py VllmConfig.max_in_flight_tokens = max_concurrent_batches × max_num_batched_tokens, where
 * max_concurrent_batches is 2 under async scheduling with pp = 1 (the default scheduler since 0.14: "Asynchronous
 * scheduling is enabled"), and pp otherwise (V1 model runner; the V2 runner's pp + 1 is not modelled).
 */
export function vllmInFlightTokens(version: string | undefined, mnbt: number, pp: number): number {
  if (!vllmAtLeast(version, 0, 26)) return mnbt;
  return (pp <= 1 ? 2 : pp) * mnbt;
}

/**
 * From 0.28.1 (vllm-project/vllm#47272, merged 2026-08-20 after the v0.28.0 branch cut; in v0.28.1rc0 and
 * v0.29.0rc1+): kv_cache_utils.py get_kv_cache_configs checks max_model_len (and auto-fit) against
 * available − one block (check_memory: BlockPool holds the null block back), so a request must fit num_blocks − 1
 * blocks. The printed tokens and concurrency still use all num_blocks.
 */
export function reservesNullBlock(version: string | undefined): boolean {
  return vllmAtLeast(version, 0, 28, 1);
}

/**
 * From 0.21.0 determine_available_memory (vllm/v1/worker/gpu_worker.py) subtracts the profiled CUDA graph memory
 * ("Estimated CUDA graph memory: X GiB total", GPUModelRunner.profile_cudagraph_memory) from the KV budget when
 * graphs will be captured (not --enforce-eager, not ROCm) and VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS is on
 * ("CUDA graph memory profiling is enabled (default since v0.21.0)"). The printed "Available KV cache memory" is
 * already net of it.
 */
export function subtractsCudaGraphEstimate(version: string | undefined, enforceEager?: boolean): boolean {
  return !enforceEager && vllmAtLeast(version, 0, 21);
}

/**
 * Whether this vLLM release prints "GPU KV cache size" as int(max_concurrency × max_model_len)
 * (kv_cache_utils.py _report_kv_cache_config, from 0.21: hybrid and sliding-window layouts no longer report
 * num_blocks // len(groups) × min block size; vllm-project/vllm#43308 shows the jump between 0.20.0 and 0.21.0, and
 * the 0.25.1 fixture log prints 3,875,400 = 14.78…x × 262,144, not a multiple of 16).
 */
export function reportsConcurrencyTokens(version: string | undefined): boolean {
  return vllmAtLeast(version, 0, 21);
}
