// Start-up terms vLLM measures rather than computes: no formula in its source gives them, so each constant here is
// read from derivation logs only (data/evidence, set "derived", files named beside each constant; vLLM 0.19.0
// `vllm serve` on one NVIDIA H100 80GB HBM3 per rank, NCCL 2.27.5, from the llm-d-planner accuracy campaign). No
// held-out log was used. Other GPUs, interconnects and releases may differ: the basis of every estimate says so.

const GIB = 1024 ** 3;

/** Derivation logs of the 0.19.0 H100 constants (data/evidence/logs). */
const LOG = (name: string) => `vllm-llmdplanner-${name}-0.19.0.log`;

/** The 15 TP 1 derivation logs of 0.19.0. */
const TP1_LOGS = [
  "deepseek-v2-lite-chat", "qwen2.5-7b-instruct-fp8-dynamic", "gemma-2-2b-it", "granite-3.1-8b-instruct", "granite-3.3-8b-instruct",
  "granite-vision-3.3-2b", "llama-3.1-8b-instruct-dtbf16-kvfp8", "llama-3.1-8b-instruct-dtf32", "llama-3.1-8b-instruct-len16384",
  "phi-2-len2048", "mistral-small-3.1-24b-instruct-2503", "qwen1.5-moe-a2.7b", "qwen2.5-7b-instruct-dtbf16-kvfp8",
  "qwen2.5-7b-instruct-len32768", "meta-llama-3.1-8b-instruct-quantized.w4a16-dtf16",
].map((n) => LOG(`${n}-h100-80gb-tp1`));

/**
 * memory_profiling non_torch_increase (vllm/utils/mem_utils.py: CUDA memory outside torch's allocator gained
 * between the worker's first snapshot and the end of profile_run: lazily loaded kernels and modules, cuBLAS handles,
 * NCCL buffers created at the first collective, custom all-reduce and FlashInfer all-reduce fusion workspaces), in
 * GiB per rank, vLLM 0.17+ on H100 SXM.
 */
export const NON_TORCH_H100_GIB = {
  /** Median of the 15 TP 1 derivation logs (0.24–0.26; Granite 3.x 0.46). */
  tp1: { gib: 0.25, logs: TP1_LOGS },
  /** Mean of Llama-3.3-70B FP8 (2.10) and Mistral-Small-3.1 w8a8 (2.07) at TP 2. */
  tp2: { gib: 2.085, logs: [LOG("llama-3.3-70b-instruct-fp8-dynamic-h100-80gb-tp2"), LOG("mistral-small-3.1-24b-instruct-2503-quantized.w8a8-h100-80gb-tp2")] },
  /** Llama-3.3-70B FP8 at TP 4 (2.21); used for TP ≥ 4 (no TP 8 log). */
  tp4: { gib: 2.21, logs: [LOG("llama-3.3-70b-instruct-fp8-dynamic-h100-80gb-tp4")] },
  /** Llama-3.1-8B at PP 4, TP 1: 0.07 on every stage. */
  ppOnly: { gib: 0.07, logs: [LOG("llama-3.1-8b-instruct-pp4-h100-80gb-tp1")] },
} as const;

/** Non-torch increase per rank (bytes) for vLLM 0.17+ by parallel layout, and where the figure comes from. */
export function nonTorchH100(tp: number, pp: number): { bytes: number; basis: string } {
  const row = tp >= 4 ? NON_TORCH_H100_GIB.tp4 : tp >= 2 ? NON_TORCH_H100_GIB.tp2 : pp > 1 ? NON_TORCH_H100_GIB.ppOnly : NON_TORCH_H100_GIB.tp1;
  const layout = tp >= 2 ? `TP ${tp >= 4 ? "≥ 4" : "2"}` : pp > 1 ? "PP only" : "TP 1";
  return { bytes: row.gib * GIB, basis: `measured: non-torch increase ${row.gib} GiB per rank at ${layout} (vLLM 0.19 on H100 SXM, ${row.logs[0]}${row.logs.length > 1 ? " …" : ""})` };
}

/**
 * Torch allocations inside the profile window that no model tensor explains: the first cuBLAS / cuBLASLt workspaces
 * and similar, 0.037–0.044 GiB over the logged peak minus the sampler warm-up in sampler-dominated TP 1 logs.
 */
export const TORCH_WORKSPACE_GIB = {
  gib: 0.04,
  logs: ["qwen2.5-7b-instruct-len32768", "gemma-2-2b-it", "llama-3.1-8b-instruct-dtbf16-kvfp8", "meta-llama-3.1-8b-instruct-quantized.w4a16-dtf16", "phi-2-len2048"].map((n) => LOG(`${n}-h100-80gb-tp1`)),
};

/**
 * Residual-stream tensors alive at the forward pass's peak, in units of max_num_batched_tokens × hidden, besides the
 * MLP's gate_up and activation outputs: torch.compile's buffer reuse decides it. From the one derivation log whose
 * peak is the forward pass (Granite-3.1-8B, 32k vocabulary: 0.85 GiB).
 */
export const FORWARD_RESIDUALS = { count: 3.6, logs: [LOG("granite-3.1-8b-instruct-h100-80gb-tp1")] };

/**
 * GPUModelRunner.profile_cudagraph_memory's estimate ("Estimated CUDA graph memory: X GiB total"), which 0.20+
 * subtracts from the KV budget: vLLM captures graphs into a throw-away pool and extrapolates, so it is a measurement.
 * Medians of the 0.19.0 derivation logs, which print it without subtracting it: TP 1 (15 logs, 0.52–1.39 GiB), TP 2
 * (1.60, 1.82), TP ≥ 4 (1.70), PP only (0.49).
 */
export const CUDA_GRAPH_ESTIMATE_GIB = {
  tp1: 0.74,
  tp2: 1.71,
  tp4: 1.7,
  ppOnly: 0.49,
  logs: [...TP1_LOGS, LOG("llama-3.3-70b-instruct-fp8-dynamic-h100-80gb-tp2"), LOG("mistral-small-3.1-24b-instruct-2503-quantized.w8a8-h100-80gb-tp2"), LOG("llama-3.3-70b-instruct-fp8-dynamic-h100-80gb-tp4"), LOG("llama-3.1-8b-instruct-pp4-h100-80gb-tp1")],
};

export function cudaGraphEstimateH100(tp: number, pp: number): { bytes: number; basis: string } {
  const g = CUDA_GRAPH_ESTIMATE_GIB;
  const gib = tp >= 4 ? g.tp4 : tp >= 2 ? g.tp2 : pp > 1 ? g.ppOnly : g.tp1;
  return { bytes: gib * GIB, basis: `measured: CUDA graph estimate ${gib} GiB per rank (median of vLLM 0.19 H100 derivation logs, which print it; vLLM measures it by capture)` };
}
