// vLLM release gates: which start-up rules a given release (EngineOptions.vllmVersion, `fit --vllm-version`) follows.
// Every gate names the change that introduced it; a deployment without a version gets VLLM_DEFAULT_RELEASE.
import { InputError } from "../../lib/calc/index.js";

/**
 * The release a deployment without --vllm-version is planned for: 0.19.0. Why this one: it is the newest release whose
 * whole start-up accounting hwledger both reads from vLLM's source and checks on real start-up logs (59 vLLM 0.19.0
 * `vllm serve` logs of the public llm-d-planner accuracy campaign, April 2026, data/evidence/logs). 0.20.0 differs only
 * by subtracting the CUDA graph estimate vLLM measures at start-up (#38284), which hwledger can only approximate
 * (measured.ts); 0.21.0 adds the FlashInfer sampler default (#40376). Users on those or later releases pass
 * --vllm-version and get the later gates below; the cases in data/evidence carry their own release.
 */
export const VLLM_DEFAULT_RELEASE = "0.19.0";

/** "0.25.1" → 2501 (minor × 100 + patch, major × 10⁶); malformed → InputError. */
function releaseKey(version: string): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) throw new InputError(`vLLM version "${version}" is not of the form MAJOR.MINOR[.PATCH]`);
  return Number(m[1]) * 1e6 + Number(m[2]) * 100 + Number(m[3] ?? 0);
}

/** The release a deployment follows: its own, else VLLM_DEFAULT_RELEASE. */
export function vllmRelease(version: string | undefined): string {
  return version ?? VLLM_DEFAULT_RELEASE;
}

/** Whether `version` (absent = VLLM_DEFAULT_RELEASE) is at least MAJOR.MINOR.PATCH. */
export function vllmAtLeast(version: string | undefined, major: number, minor: number, patch = 0): boolean {
  return releaseKey(vllmRelease(version)) >= major * 1e6 + minor * 100 + patch;
}

/**
 * From 0.11.0 (vllm-project/vllm#25359, abad204b: "Initialize the distributed environment BEFORE taking memory
 * snapshot"), gpu_worker.py init_device takes the worker's first memory snapshot after NCCL is set up, so
 * communicator memory is no longer part of the non-torch increase.
 */
export function snapshotsAfterDistributedInit(version: string | undefined): boolean {
  return vllmAtLeast(version, 0, 11);
}

/**
 * From 0.13.0 (#27532, 3e41992f, 2025-12-12): fused-MoE workspaces come from the persistent WorkspaceManager
 * (v1/worker/workspace.py, modular_kernel.py _allocate_buffers get_simultaneous), so they are still allocated when the
 * profile run's sampler warm-up peaks.
 */
export function moeWorkspacePersists(version: string | undefined): boolean {
  return vllmAtLeast(version, 0, 13);
}

/**
 * From 0.14.0 (#30868, 2497228a, 2025-12-17): requested memory = math.ceil(total × gpu_memory_utilization)
 * (v1/worker/utils.py request_memory); before it, the float product.
 */
export function ceilsRequestedMemory(version: string | undefined): boolean {
  return vllmAtLeast(version, 0, 14);
}

/**
 * The top-k/top-p path the profile run's dummy sampler warms up (v1/sample/ops/topk_topp_sampler.py), from the
 * release and VLLM_USE_FLASHINFER_SAMPLER (EngineOptions.sampler):
 * - up to 0.11.0: FlashInfer when installed (27e8d1ea TopKTopPSampler.__init__), else PyTorch's sort (the default
 *   here, as pip wheels do not bring FlashInfer);
 * - 0.11.1–0.16: the PyTorch sort path apply_top_k_top_p; FlashInfer only when opted in (#26859, e66d787b);
 * - 0.17–0.20: apply_top_k_top_p_triton when there are at least 8 rows (#33538, c656ba3b), else the sort path;
 *   FlashInfer only when opted in;
 * - from 0.21: FlashInfer by default where the GPU supports it (#40376, b92ef9ec), and _dummy_sampler_run warms the
 *   native path up too (#41375, c3e64696), so the peak is the larger of the two: the native path's (Triton, or the
 *   sort below 8 rows), whatever VLLM_USE_FLASHINFER_SAMPLER says.
 */
export type SamplerPath = "flashinfer-probs" | "flashinfer-logits" | "sort" | "triton";

export function samplerPath(version: string | undefined, sampler: "flashinfer" | "native" | undefined, rows: number): SamplerPath {
  const triton = rows >= 8;
  if (vllmAtLeast(version, 0, 21)) return triton ? "triton" : "sort";
  if (vllmAtLeast(version, 0, 17)) return sampler === "flashinfer" ? "flashinfer-logits" : triton ? "triton" : "sort";
  return sampler === "flashinfer" ? "flashinfer-probs" : "sort";
}

/**
 * From 0.20.0 (#38284, 96a85c57, 2026-04-21; VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS defaults to "1" at the 0.20.0
 * branch point 4d51588e, and 0.20.0 logs print "CUDA graph memory profiling is enabled (default since v0.21.0)"
 * while subtracting it), Worker.determine_available_memory subtracts the CUDA graph estimate
 * (GPUModelRunner.profile_cudagraph_memory) from the KV budget when graphs will be captured: not with
 * --enforce-eager, not on ROCm.
 */
export function subtractsCudaGraphEstimate(version: string | undefined, enforceEager?: boolean, rocm?: boolean): boolean {
  return !enforceEager && !rocm && vllmAtLeast(version, 0, 20);
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
 * Whether this vLLM release prints "GPU KV cache size" as int(max_concurrency × max_model_len)
 * (kv_cache_utils.py _report_kv_cache_config, from 0.21: hybrid and sliding-window layouts no longer report
 * num_blocks // len(groups) × min block size; vllm-project/vllm#43308 shows the jump between 0.20.0 and 0.21.0, and
 * the 0.25.1 fixture log prints 3,875,400 = 14.78…x × 262,144, not a multiple of 16).
 */
export function reportsConcurrencyTokens(version: string | undefined): boolean {
  return vllmAtLeast(version, 0, 21);
}

/** From 0.28.0 (vllm-project/vllm#51726, merged 2026-08-10): `vllm serve` on a large GPU batches 16384 tokens by default. */
export function largeServeBatch(version: string | undefined): boolean {
  return vllmAtLeast(version, 0, 28);
}
