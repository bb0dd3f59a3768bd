// transformers (PyTorch) memory profile. Cache rules from src/transformers/cache_utils.py (huggingface/transformers,
// read at 004999d9); figures are what torch.cuda.max_memory_allocated() counts (tensors the caching allocator
// handed out; the CUDA context and allocator slack are outside it).
import { InputError } from "../types.js";
import type { CacheSpec, Deployment, ModelSpec } from "../types.js";
import type { CacheResult, EngineProfile } from "./profile.js";
import { kvElemsPerToken } from "./common.js";
import { activationWidths } from "./shapes.js";

/** QuantizedLayer defaults (QuantoQuantizedLayer / HQQQuantizedLayer __init__): q_group_size 64, residual_length 128. */
export const HF_QKV_GROUP = 64;
export const HF_QKV_RESIDUAL = 128;

function dtypeBytes(model: ModelSpec): number {
  return model.nativeDtype.toLowerCase().includes("32") ? 4 : 2;
}

/**
 * Bytes per element of the cache: DynamicLayer keeps keys/values in the dtype the projections produce (the model
 * dtype; f32 when loaded in fp32). "q4": QuantoQuantizedLayer qint4, "q8": HQQQuantizedLayer nbits=8 — packed values
 * plus a 16-bit scale and zero-point per 64-value group.
 */
function elemBytes(dep: Deployment): number {
  switch (dep.kvDtypeK) {
    case "f16":
    case "bf16":
      return 2;
    case "f32":
      return 4;
    case "q4":
      return 0.5 + 4 / HF_QKV_GROUP;
    case "q8":
      return 1 + 4 / HF_QKV_GROUP;
    default:
      throw new InputError(`transformers caches keys/values in the model dtype or a QuantizedCache (q4 = quanto int4, q8 = HQQ 8-bit): use --kv-dtype f16, bf16, f32, q4 or q8, not ${dep.kvDtypeK}`);
  }
}

function quantized(dep: Deployment): boolean {
  return dep.kvDtypeK === "q4" || dep.kvDtypeK === "q8";
}

/**
 * Tokens of storage one layer holds for one sequence of `context` tokens.
 * DynamicLayer: torch.cat of every token, no rounding. DynamicSlidingWindowLayer.update keeps a view of the last
 * sliding_window - 1 tokens of the concatenation, which pins the storage of that concatenation (window - 1 old
 * + the new token = window tokens while decoding). StaticLayer preallocates max_cache_len; StaticSlidingWindowLayer
 * min(sliding_window, max_cache_len). Chunked attention (Llama 4) is given a sliding layer of attention_chunk_size.
 */
function tokensHeld(c: CacheSpec, dep: Deployment): number {
  const ctx = dep.context;
  switch (c.kind) {
    case "full":
    case "mla":
      return ctx;
    case "sliding":
      return Math.min(ctx, c.window + (c.sinkTokens ?? 0));
    case "chunked":
      return Math.min(ctx, c.chunk);
    case "cross":
      return c.encoderTokens;
    default:
      return 0;
  }
}

function cache(model: ModelSpec, dep: Deployment): CacheResult {
  if (dep.kvDtypeK !== dep.kvDtypeV) throw new InputError("transformers uses one cache dtype for keys and values; give one --kv-dtype");
  const q = quantized(dep);
  if (q && model.layers.some((l) => l.cache.kind !== "full" && l.cache.kind !== "none")) {
    throw new InputError("transformers' QuantizedCache has only full-attention layers (QuantizedLayer); this model has sliding, MLA or recurrent layers");
  }
  if (q && dep.options?.cacheImplementation === "static") throw new InputError("transformers: a static cache cannot be quantized; drop --kv-dtype q4/q8 or the static cache");
  const half = dtypeBytes(model);
  const perElem = elemBytes(dep);
  const perLayer: number[] = new Array(model.layers.length);
  let total = 0;
  let bytesPerToken = 0;
  for (let i = 0; i < model.layers.length; i++) {
    const c = model.layers[i].cache;
    let bytes = 0;
    if (c.kind === "recurrent") {
      // MambaCache / Mamba2 / HybridMambaAttentionDynamicCache: conv_states and ssm_states per sequence in the model dtype.
      bytes = (c.convElems + c.stateElems) * half * dep.seqs;
    } else if (c.kind !== "none") {
      // MLA: DeepseekV2/V3Attention expands kv_b_proj and caches per-head K (nope + rope) and V.
      const e = kvElemsPerToken(c, "expanded");
      const elems = e.k + e.v;
      const tokens = tokensHeld(c, dep);
      if (q) {
        // QuantizedLayer: tokens past the residual are quantized; up to residual_length stay in the model dtype.
        const residual = Math.min(tokens, HF_QKV_RESIDUAL);
        bytes = ((tokens - residual) * perElem + residual * half) * elems * dep.seqs;
        if (c.kind === "full") bytesPerToken += elems * perElem;
      } else {
        bytes = elems * perElem * tokens * dep.seqs;
        if (c.kind === "full" || c.kind === "mla") bytesPerToken += elems * perElem;
      }
    }
    perLayer[i] = bytes;
    total += bytes;
  }
  const kind = dep.options?.cacheImplementation === "static" ? "StaticCache (preallocated to max_cache_len)" : "DynamicCache (torch.cat per token)";
  return {
    perLayer,
    total,
    bytesPerToken,
    basis: [
      `transformers KV: ${kind}, ${q ? `QuantizedCache ${dep.kvDtypeK} group ${HF_QKV_GROUP} with a ${HF_QKV_RESIDUAL}-token 16-bit residual` : `model dtype (${half} B)`}; ` +
        "sliding layers hold sliding_window tokens of storage (DynamicSlidingWindowLayer keeps a view of the last window - 1), MLA expanded per head, " +
        "SSM state per sequence (src/transformers/cache_utils.py)",
    ],
  };
}

function largestLayerKv(model: ModelSpec, dep: Deployment, half: number): number {
  let m = 0;
  for (const l of model.layers) {
    const c = l.cache;
    if (c.kind === "recurrent" || c.kind === "none") continue;
    const e = kvElemsPerToken(c, "expanded");
    m = Math.max(m, (e.k + e.v) * half * tokensHeld(c, dep));
  }
  return m;
}

export const transformersProfile: EngineProfile = {
  id: "transformers",
  label: "transformers",
  cache,
  activations(model, dep) {
    const w = activationWidths(model);
    const half = dtypeBytes(model);
    // generate() runs the whole prompt in one forward (no chunking); one block's outputs are live at a time.
    const prefill = dep.seqs * dep.context * w.peakElemsPerToken * half;
    // DynamicLayer.update: torch.cat allocates the grown K/V while the old ones are still referenced (one layer);
    // a QuantizedLayer returns a dequantized 16-bit copy of the whole layer on every step.
    const grow = dep.options?.cacheImplementation === "static" && !quantized(dep) ? 0 : largestLayerKv(model, dep, half) * dep.seqs;
    // generate() sets logits_to_keep=1: last-token logits, upcast to float32 (GenerationMixin._sample .float()).
    const logits = dep.seqs * w.vocab * 4 * 2;
    return {
      bytes: prefill + grow + logits,
      basis: `estimate: the whole ${dep.context}-token prompt through the widest block in one forward (SDPA/flash, no score matrix), one layer's K/V copied by torch.cat, last-token logits in float32 (generate logits_to_keep=1)`,
    };
  },
  overhead: () => ({
    bytes: 0,
    basis: "0: torch.cuda.max_memory_allocated excludes the CUDA context and the caching allocator's reserved-but-free blocks (see nvidia-smi for those)",
  }),
};
