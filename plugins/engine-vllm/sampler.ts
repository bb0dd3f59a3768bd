// The sampler warm-up of the profile run: GPUModelRunner._dummy_sampler_run (v1/worker/gpu_model_runner.py) samples
// one row per dummy request with temperature 0.5, top_p 0.9 and top_k = vocab − 1, through v1/sample/sampler.py
// Sampler.forward and v1/sample/ops/topk_topp_sampler.py. Which top-k/top-p path runs depends on the release
// (releases.ts samplerPath); each holds different temporaries at its peak.
import type { DeploymentShape, ModelSpec } from "../../lib/calc/index.js";
import { modelDtypeBytes } from "./arg-utils.js";
import { samplerPath } from "./releases.js";
import type { SamplerPath } from "./releases.js";
import { paddedVocab } from "./weights.js";

/**
 * The H100 SXM's 132 SMs (a real deviceQuery: thamada/nvidia-smi nvsim/H100SXMx8_deviceQuery.py, "(132)
 * Multiprocessors"): the Triton buffer's row count when the deployment names no device with a known SM count.
 */
export const DEFAULT_COMPUTE_UNITS = 132;

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export interface SamplerWarmup {
  bytes: number;
  path: SamplerPath;
  basis: string;
}

/**
 * Bytes the dummy sampler run holds at its peak over `rows` requests (the hidden states it starts from are the
 * caller's):
 * - every path: compute_logits' output in the model dtype over the padded vocabulary (LogitsProcessor, gathered over
 *   TP; the slice to the real vocabulary is a view);
 * - triton (0.17+): logits.to(float32) (sampler.py), probs = softmax in fp32 and q = empty_like(probs)
 *   (topk_topp_sampler.py forward_native, random_sample): 12 bytes per row × vocab, the top-k/top-p kernel working in
 *   place; plus the kernel's cached fp32 buffer of min(next_pow2(min(nSM, rows)), nSM) rows × vocab
 *   (topk_topp_triton.py, _TRITON_BUFFER_CACHE);
 * - flashinfer-logits (opted in, 0.17–0.20): the fp32 copy, then flashinfer top_k_top_p_sampling_from_logits'
 *   top_k_mask_logits output and its softmax (flashinfer sampling.py, "top_k_first"): 12 bytes, no buffer;
 * - sort (up to 0.16, or fewer than 8 rows): apply_top_k_top_p's torch.sort (values fp32, int64 indices, the radix
 *   sort's alternate buffers, an int64 iota) on the fp32 copy: 38 bytes per row × padded vocab in all, as
 *   hwledger has used since the 0.10–0.13 H100 `vllm serve` figures of LMCache and llm-d-benchmark;
 * - flashinfer-probs (opted in, up to 0.16): logits, fp32 copy and probs, 10 bytes per row × padded vocab.
 */
export function samplerWarmup(model: ModelSpec, dep: DeploymentShape, rows: number): SamplerWarmup {
  const o = dep.options ?? {};
  const path = samplerPath(o.vllmVersion, o.sampler, rows);
  const v = model.vocabSize;
  const vPad = paddedVocab(model);
  const a = modelDtypeBytes(dep);
  let bytes: number;
  let detail: string;
  if (path === "sort" || path === "flashinfer-probs") {
    const perElt = path === "sort" ? 38 : 10;
    bytes = rows * vPad * perElt;
    detail = `${perElt} B per row × padded vocab`;
  } else {
    bytes = rows * vPad * a + 12 * rows * v;
    detail = `logits ${a} B + fp32 copy, probs and exponential 12 B per row × vocab`;
    if (path === "triton") {
      const nSm = o.device?.computeUnits ?? DEFAULT_COMPUTE_UNITS;
      const bufRows = Math.min(nextPow2(Math.min(nSm, rows)), nSm);
      bytes += 4 * bufRows * v;
      detail += ` + Triton buffer ${bufRows} rows${o.device?.computeUnits ? "" : " (132 SMs assumed)"}`;
    }
  }
  return { bytes, path, basis: `sampler warm-up (${path}) over ${rows} rows: ${detail}` };
}
