// The worker's start-up memory accounting: vllm/v1/worker/gpu_worker.py Worker.determine_available_memory over the
// profile run of vllm/v1/worker/gpu_model_runner.py GPUModelRunner.profile_run, and the non-torch memory vLLM measures
// around it (utils memory_profiling).
import type { DeploymentShape, Estimate, ModelSpec } from "../../lib/calc/index.js";
import { effectiveOptions, vllmDefaultBatchedTokens, vllmSchedulerDefaults } from "./arg-utils.js";
import { ppStageLayers } from "./pp-stages.js";
import { subtractsCudaGraphEstimate } from "./releases.js";
import { VLLM_VOCAB_PADDING, vllmWeightsPerRank } from "./weights.js";

const GIB = 1024 ** 3;

/** Logit bytes per (request, vocab entry) in the sampler warm-up of the profile run. */
const SAMPLER_BYTES = {
  // compute_logits output (model dtype) + the fp32 copy (v1/sample/sampler.py Sampler.forward) + softmax probs
  // handed to flashinfer top_k_top_p_sampling_from_probs (v1/sample/ops/topk_topp_sampler.py forward_cuda).
  flashinfer: 2 + 4 + 4,
  // PyTorch path apply_top_k_top_p (the dummy run sets top_k = V − 1, top_p = 0.9): model-dtype logits, the fp32
  // copy, then torch.sort on CUDA (aten Sort.cu segmented radix sort): an int64 iota of the indices, the sorted
  // values (fp32) and indices (int64) and the radix sort's alternate key/value buffers (fp32 + int64).
  native: 2 + 4 + 8 + (4 + 8) + (4 + 8),
} as const;

/** Per-layer widths the forward pass materialises (from the tensor shapes: ne0 = input, ne1 = output). */
export interface LayerWidths {
  dense: number;
  expert: number;
  topk: number;
  shared: number;
  attnQ: number;
  attnKv: number;
  attnOut: number;
}

export function layerWidths(model: ModelSpec): LayerWidths[] {
  return model.layers.map((l) => {
    let dense = 0, expert = 0, shared = 0, attnQ = 0, attnKv = 0, attnOut = 0;
    for (const t of l.tensors) {
      const n = t.name.slice(t.name.indexOf(".", 4) + 1);
      if (n === "ffn_gate" || n === "ffn_up") dense += t.shape[1];
      else if (n === "ffn_gate_exps" || n === "ffn_up_exps") expert += t.shape[1];
      else if (n === "ffn_gate_shexp" || n === "ffn_up_shexp") shared += t.shape[1];
      else if (n === "attn_q" || n === "attn_q_b") attnQ += t.shape[1];
      else if (n === "attn_k" || n === "attn_v" || n === "attn_kv_b") attnKv += t.shape[1];
      else if (n === "attn_output") attnOut += t.shape[0];
      else if (n === "ssm_in") attnQ += t.shape[1];
    }
    return { dense, expert, topk: l.moe?.activeExperts ?? 0, shared, attnQ, attnKv, attnOut };
  });
}

/**
 * Peak of torch's allocator during GPUModelRunner.profile_run: _dummy_run with max_num_batched_tokens tokens spread
 * over min(max_num_seqs, tokens) requests (attention kernels skipped, so only projections and MLP outputs are
 * materialised), then _dummy_sampler_run on one row per request.
 * Estimate: the residual stream (3 × T × hidden) plus the widest layer transient (gate_up + act = 1.5 × gate_up
 * width; fused_moe intermediate caches T × top_k × (3 N + hidden)), or the sampler warm-up, whichever is larger.
 */
export function vllmProfilePeak(model: ModelSpec, dep: DeploymentShape, stageLayers?: number[], lastStage = true, widths = layerWidths(model)): Estimate {
  const o = dep.options ?? {};
  const defaults = vllmSchedulerDefaults();
  const T = o.maxNumBatchedTokens ?? vllmDefaultBatchedTokens(model, undefined, o.vllmVersion);
  const R = Math.min(o.maxNumSeqs ?? defaults.maxNumSeqs, T);
  const a = 2; // activations run in the model dtype (fp16/bf16)
  const tp = dep.tp;
  let widest = 0;
  for (const i of stageLayers ?? widths.map((_, k) => k)) {
    const w = widths[i];
    // Attention: qkv output and attention output alive together.
    const attn = (w.attnQ + w.attnKv + w.attnOut) / tp;
    // Dense MLP: gate_up (2I) + SiluAndMul output (I).
    const mlp = (w.dense * 3) / 2 / tp + (w.shared * 3) / 2 / tp;
    // fused_moe (layers/fused_moe/fused_moe.py fused_experts_impl): intermediate_cache1 [M, top_k, 2N],
    // cache2 [M·top_k, N], cache3 [M, top_k, hidden], N = expert intermediate / tp.
    const moe = w.topk ? w.topk * ((w.expert / tp) * 1.5 + model.hiddenSize) : 0;
    widest = Math.max(widest, attn, mlp + moe);
  }
  const forward = T * (3 * model.hiddenSize + widest) * a;
  const vPad = Math.ceil(model.vocabSize / VLLM_VOCAB_PADDING) * VLLM_VOCAB_PADDING;
  // Default: the PyTorch path (vLLM without FlashInfer installed); it matches the H100 `vllm serve` figures of
  // llm-d-benchmark and LMCache (38–39 B per dummy-request × vocab entry) and is the larger, safer estimate.
  const sampler = o.sampler ?? "native";
  // Under TP the lm_head shards are all-gathered (layers/logits_processor.py _gather_logits); the shard is freed
  // before the sampler, so only the full-vocabulary logits count.
  const sample = lastStage ? T * model.hiddenSize * a + R * vPad * SAMPLER_BYTES[sampler] : 0;
  const bytes = Math.max(forward, sample);
  return {
    bytes,
    basis: `estimate: profile_run peak with max_num_batched_tokens ${T}, ${R} dummy requests: forward ${(forward / GIB).toFixed(3)} GiB, sampler warm-up (${sampler}) ${(sample / GIB).toFixed(3)} GiB`,
  };
}

/**
 * Non-torch memory that appears between the worker's first snapshot and the end of the profile run (utils
 * memory_profiling: non_torch_increase): CUDA modules loaded lazily by the first kernels (many more with
 * torch.compile than in eager mode) and, with peers, NCCL communicators (pynccl + the torch device group) — in
 * 0.10 gpu_worker.py init_device takes the snapshot before init_worker_distributed_environment, so they count;
 * later versions snapshot after it ("Initialize the distributed environment BEFORE taking memory snapshot").
 * Estimate: the sizes are the residuals of the Qwen2-7B logs (A100 80GB, TP1 and TP2 at utilization 0.25 and
 * 0.5: 0.55 and 0.67 GiB beyond weights, minus the sampler warm-up) and of the T4 eager log; vLLM measures this,
 * it has no formula.
 */
export function vllmNonTorch(dep: DeploymentShape): Estimate {
  const world = dep.tp * dep.pp;
  const base = (dep.options?.enforceEager ? 0.05 : 0.17) * GIB;
  const nccl = world > 1 ? 0.12 * GIB : 0;
  return {
    bytes: base + nccl,
    basis: `estimate: non-torch increase ${((base + nccl) / GIB).toFixed(2)} GiB (CUDA modules${dep.options?.enforceEager ? ", eager" : ", compiled"}${world > 1 ? ", NCCL communicators" : ""})`,
  };
}

export interface StartupAccounting {
  /** Per pipeline stage (each TP rank of a stage is identical). */
  requestedBytes: number;
  weightsBytes: number[];
  peakBytes: number[];
  nonTorchBytes: number;
  availableBytes: number[];
  basis: string[];
}

/**
 * Worker.determine_available_memory: requested = total × gpu_memory_utilization (init_device), available KV =
 * requested − (weights + torch peak increase of profile_run + non-torch increase). The CUDA context predates the
 * first snapshot and so sits inside the (1 − utilization) margin. From 0.21 the CUDA graph estimate is subtracted too
 * (subtractsCudaGraphEstimate). vLLM measures it by capturing graphs into a dummy KV cache; hwledger has no model of
 * it, so it is an input (`cudaGraphBytes`, the logged "Estimated CUDA graph memory"); absent, nothing is subtracted
 * and the basis says so.
 */
export function vllmStartup(model: ModelSpec, dep0: DeploymentShape, gpuMemoryBytes: number, utilization: number, weightsOverride?: number, cudaGraphBytes?: number): StartupAccounting {
  const dep = effectiveOptions(model, dep0, gpuMemoryBytes);
  const stages = ppStageLayers(model.layers.length, dep.pp);
  const weights = weightsOverride !== undefined ? stages.map(() => weightsOverride) : vllmWeightsPerRank(model, dep);
  const nt = vllmNonTorch(dep);
  const widths = layerWidths(model);
  const o = dep.options;
  const peaks = stages.map((s, i) => vllmProfilePeak(model, dep, s, i === stages.length - 1, widths));
  const requested = gpuMemoryBytes * utilization;
  const graphs = subtractsCudaGraphEstimate(o?.vllmVersion, o?.enforceEager);
  const graphBytes = graphs ? (cudaGraphBytes ?? 0) : 0;
  const available = stages.map((_, i) => Math.floor(requested - weights[i] - peaks[i].bytes - nt.bytes - graphBytes));
  return {
    requestedBytes: requested,
    weightsBytes: weights,
    peakBytes: peaks.map((p) => p.bytes),
    nonTorchBytes: nt.bytes,
    availableBytes: available,
    basis: [
      `vLLM: available KV = ${utilization} × ${(gpuMemoryBytes / GIB).toFixed(2)} GiB − weights − profile peak − non-torch, per rank (gpu_worker.py determine_available_memory)`,
      peaks[peaks.length - 1].basis,
      nt.basis,
      ...(graphs
        ? [cudaGraphBytes !== undefined
          ? `vLLM ${o!.vllmVersion}: minus the CUDA graph estimate ${(cudaGraphBytes / GIB).toFixed(2)} GiB (gpu_worker.py, default since 0.21)`
          : `vLLM ${o!.vllmVersion}: also subtracts its measured CUDA graph estimate (default since 0.21; public logs show 0.1–0.6 GiB), not modelled here`]
        : []),
    ],
  };
}
