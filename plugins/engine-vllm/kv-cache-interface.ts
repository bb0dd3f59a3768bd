// vllm/v1/kv_cache_interface.py: the KV cache spec vLLM builds for each layer (FullAttentionSpec, SlidingWindowSpec,
// ChunkedLocalAttentionSpec, MLAAttentionSpec, MambaSpec), the bytes of one page of it on one rank, and
// max_memory_usage_bytes (the blocks one request needs).
import { InputError, kvBytes, mlaLatentElems, stateElems } from "../../lib/calc/index.js";
import type { DeploymentShape, KvDtype, ModelSpec } from "../../lib/calc/index.js";

export type VllmSpecKind = "full" | "sliding" | "chunked" | "mla" | "mamba";

/** One layer's cache as one rank stores it. */
export interface LayerKv {
  layer: number;
  kind: VllmSpecKind;
  /** Bytes per token per rank (attention kinds). */
  tokenBytes: number;
  /** Sliding window or attention chunk size. */
  window: number;
  /** Bytes per sequence per rank (MambaSpec.page_size_bytes before padding). */
  stateBytes: number;
}

/** Bytes of one KV element: vLLM uses one --kv-cache-dtype for K and V; "auto" is the model dtype. */
export function kvElemBytes(dep: DeploymentShape): number {
  if (dep.kvDtypeK !== dep.kvDtypeV) throw new InputError("vLLM uses one --kv-cache-dtype for K and V; give a single --kv-dtype");
  const d: KvDtype = dep.kvDtypeK;
  if (!["f16", "bf16", "f32", "fp8", "fp8_e4m3", "fp8_e5m2"].includes(d)) {
    throw new InputError(`vLLM has no KV cache dtype "${d}" (use auto/f16/bf16, fp8, fp8_e4m3 or fp8_e5m2)`);
  }
  return kvBytes(d, 1);
}

/**
 * Bytes per element of the recurrent (SSM / delta-rule) state. --mamba-ssm-cache-dtype "auto" is the model dtype,
 * except where vllm/model_executor/models/config.py rewrites "auto" from the checkpoint:
 * NemotronHForCausalLMConfig.update_mamba_ssm_cache_dtype (hf mamba_ssm_cache_dtype, default "float32") and
 * Qwen3_5ForConditionalGenerationConfig.verify_and_update_config (hf mamba_ssm_dtype, "float32" in the Qwen3.5
 * checkpoints). Evidence: Nemotron-3-Nano TP2 fp8 KV prints 4176-token blocks (fp32 state; bf16 would give 2128),
 * Qwen3.5-35B-A3B fp16 prints "Setting attention block size to 1056 tokens" (fp32; bf16 would give 544). Both
 * logs are from vLLM ≥ 0.13 (the hooks were read in a recent main); when they first appeared was not checked, and a
 * release without them keeps the model dtype (2 bytes).
 */
function ssmStateBytes(model: ModelSpec): number {
  if (model.modelType === "nemotron_h" || model.modelType === "qwen3_5" || model.modelType === "qwen3_5_moe") return 4;
  return 2;
}

/** Each cached layer's spec on one rank of a `tp`-wide tensor-parallel group (layers without a cache are absent). */
export function layerKvs(model: ModelSpec, dep: DeploymentShape, e: number): LayerKv[] {
  const out: LayerKv[] = [];
  const ssmBytes = ssmStateBytes(model);
  for (const l of model.layers) {
    const c = l.cache;
    switch (c.kind) {
      case "full":
      case "sliding":
      case "chunked":
      case "cross": {
        // KV heads per rank: max(1, total_kv_heads // tp) — replicated when tp > heads
        // (e.g. vllm/model_executor/models/llama.py LlamaAttention.__init__, QKVParallelLinear).
        const heads = Math.max(1, Math.floor(c.nKvHeads / dep.tp));
        // FullAttentionSpec.real_page_size_bytes: block_size × heads × (head_size + head_size_v) × dtype.
        const tokenBytes = heads * (c.headDimK + c.headDimV) * e;
        const kind = c.kind === "cross" ? "full" : c.kind;
        const window = c.kind === "sliding" ? c.window : c.kind === "chunked" ? c.chunk : 0;
        out.push({ layer: l.index, kind, tokenBytes, window, stateBytes: 0 });
        break;
      }
      case "mla":
        // MLAAttentionSpec.real_page_size_bytes: the latent (cache/mla.ts), the same on every TP rank.
        out.push({ layer: l.index, kind: "mla", tokenBytes: mlaLatentElems(c) * e, window: 0, stateBytes: 0 });
        break;
      case "recurrent": {
        // MambaSpec.page_size_bytes = Σ prod(state shape) × dtype; conv and SSM/delta states are sharded over TP
        // heads (mamba_mixer2.py get_state_shape). Conv state: model dtype; SSM state: mamba_ssm_cache_dtype.
        const s = stateElems(c);
        out.push({ layer: l.index, kind: "mamba", tokenBytes: 0, window: 0, stateBytes: Math.ceil(s.conv / dep.tp) * 2 + Math.ceil(s.state / dep.tp) * ssmBytes });
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** What the per-request block count needs of a KV cache group. */
export interface BlockGroup {
  kind: VllmSpecKind;
  window: number;
  blockSize: number;
}

const cdiv = (a: number, b: number) => Math.ceil(a / b);

/**
 * Max blocks one request of `len` tokens needs in one layer of a group (max_memory_usage_bytes, from 0.20 via
 * max_admission_blocks_per_request): full/MLA cdiv(max_model_len, bs) pages; sliding (cdiv(min(window − 1 + in_flight,
 * len), bs) + 1); chunked cdiv(min(chunk + in_flight, len), bs); Mamba one page. `inFlight` is max_num_batched_tokens
 * up to 0.25 and VllmConfig.max_in_flight_tokens from 0.26 (releases.ts vllmInFlightTokens).
 */
export function requestBlocks(g: BlockGroup, len: number, inFlight: number): number {
  switch (g.kind) {
    case "full":
    case "mla":
      return cdiv(len, g.blockSize);
    case "sliding":
      return cdiv(Math.min(g.window - 1 + inFlight, len), g.blockSize) + 1;
    case "chunked":
      return cdiv(Math.min(g.window + inFlight, len), g.blockSize);
    case "mamba":
      return 1;
  }
}

