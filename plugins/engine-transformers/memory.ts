// transformers (PyTorch) memory rules. Cache rules from src/transformers/cache_utils.py (huggingface/transformers,
// read at 004999d9); figures are what torch.cuda.max_memory_allocated() counts (tensors the caching allocator handed
// out; the CUDA context and allocator slack are outside it).
import { CACHE_CODE, InputError, activationWidths, compileCacheTable, expandGroups } from "../../lib/calc/index.js";
import type { CacheTable, DeploymentShape, EngineTable, ModelSpec } from "../../lib/calc/index.js";

/** QuantizedLayer defaults (QuantoQuantizedLayer / HQQQuantizedLayer __init__): q_group_size 64, residual_length 128. */
export const HF_QKV_GROUP = 64;
export const HF_QKV_RESIDUAL = 128;

/** Compute dtype: fp32 when loaded in fp32, else 16-bit (quantized weights compute in fp16/bf16 too). */
function dtypeBytes(dep: DeploymentShape): number {
  return /^(fp32|f32|float32)$/i.test(dep.weights) ? 4 : 2;
}

/**
 * Bytes per element of the cache: DynamicLayer keeps keys/values in the dtype the projections produce (the model
 * dtype; f32 when loaded in fp32). "q4": QuantoQuantizedLayer qint4, "q8": HQQQuantizedLayer nbits=8 — packed values
 * plus a 16-bit scale and zero-point per 64-value group.
 */
function elemBytes(dep: DeploymentShape): number {
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

/**
 * Tokens of storage layer i holds for one sequence of `context` tokens.
 * DynamicLayer: torch.cat of every token, no rounding. DynamicSlidingWindowLayer.update keeps a view of the last
 * sliding_window - 1 tokens of the concatenation, which pins the storage of that concatenation (window - 1 old
 * + the new token = window tokens while decoding). StaticLayer preallocates max_cache_len; StaticSlidingWindowLayer
 * min(sliding_window, max_cache_len). Chunked attention (Llama 4) is given a sliding layer of attention_chunk_size.
 */
function tokensHeld(t: CacheTable, i: number, ctx: number): number {
  switch (t.kind[i]) {
    case CACHE_CODE.full:
    case CACHE_CODE.mla:
      return ctx;
    case CACHE_CODE.sliding:
    case CACHE_CODE.chunked:
      return Math.min(ctx, t.span[i]);
    case CACHE_CODE.cross:
      return t.span[i];
    default:
      return 0;
  }
}

/** conv_kernel_size of recurrent layer i: its ssm_conv1d weight is [d_conv, channels]; 0 when it has none. */
function convKernel(model: ModelSpec, i: number): number {
  let k = 0;
  for (const t of model.layers[i]?.tensors ?? []) if (t.name.endsWith("ssm_conv1d") && t.shape.length === 2) k = t.shape[0];
  return k;
}

/**
 * bitsandbytes 4-bit (--weights nf4 / nf4-nodq; transformers' load_in_4bit stores fp4 the same way) runs every
 * matmul over more than one token on a dequantized copy of the whole weight: bitsandbytes autograd/_functions.py
 * MatMul4Bit.forward = linear(A, dequantize_4bit(B, quant_state).to(A.dtype).t()). dequantize_4bit returns the
 * weight's 16-bit dtype; .to(A.dtype) adds a float32 copy when the layer computes in float32, which is transformers'
 * default (utils/quantization_config.py BitsAndBytesConfig: bnb_4bit_compute_dtype None -> torch.float32) for a
 * float16 model (bitsandbytes nn/modules.py Linear4bit.set_compute_type switches to the input dtype only for bf16/fp32
 * inputs). The model runs in float16 unless its config says bfloat16 (quantizer_bnb_4bit update_dtype: float16 when
 * no dtype is given). One prefill matmul at a time: the largest quantized linear's copy is the transient.
 */
function bnb4DequantBytes(model: ModelSpec, dep: DeploymentShape): number {
  if (dep.weights !== "nf4" && dep.weights !== "nf4-nodq") return 0;
  let elems = 0;
  for (const l of model.layers) {
    for (const t of l.tensors) {
      if (t.shape.length < 2 || !BNB_LINEAR.has(t.role)) continue;
      // A 3-D expert tensor is [in, out, experts]: one expert's linear is multiplied at a time.
      elems = Math.max(elems, t.shape[0] * t.shape[1]);
    }
  }
  const fp32Compute = !/bfloat16|bf16/i.test(model.nativeDtype);
  return elems * (2 + (fp32Compute ? 4 : 0));
}
const BNB_LINEAR: ReadonlySet<string> = new Set(["attention", "ffn", "expert", "shared_expert", "ssm"]);

function cacheBasis(dep: DeploymentShape, q: boolean): string[] {
  const kind = dep.options?.cacheImplementation === "static" ? "StaticCache (preallocated to max_cache_len)" : "DynamicCache (torch.cat per token)";
  return [
    `transformers KV: ${kind}, ${q ? `QuantizedCache ${dep.kvDtypeK} group ${HF_QKV_GROUP} with a ${HF_QKV_RESIDUAL}-token 16-bit residual` : `keys/values in ${dep.kvDtypeK}`}; ` +
      "sliding layers hold sliding_window tokens of storage (DynamicSlidingWindowLayer keeps a view of the last window - 1), MLA expanded per head, " +
      "SSM state per sequence with the full conv_kernel_size window (src/transformers/cache_utils.py, modeling_mamba.py MambaCache)",
  ];
}

export function compileTransformers(model: ModelSpec, dep: DeploymentShape): EngineTable {
  if (dep.kvDtypeK !== dep.kvDtypeV) throw new InputError("transformers uses one cache dtype for keys and values; give one --kv-dtype");
  const q = dep.kvDtypeK === "q4" || dep.kvDtypeK === "q8";
  const isStatic = dep.options?.cacheImplementation === "static";
  // MLA: DeepseekV2/V3Attention expands kv_b_proj and caches per-head K (nope + rope) and V (cache/mla.ts "expanded").
  const t = compileCacheTable(model, "expanded");
  const n = t.kind.length;
  if (q) {
    for (let i = 0; i < n; i++) {
      if (t.kind[i] !== CACHE_CODE.full && t.kind[i] !== CACHE_CODE.none) {
        throw new InputError("transformers' QuantizedCache has only full-attention layers (QuantizedLayer); this model has sliding, MLA or recurrent layers");
      }
    }
    if (isStatic) throw new InputError("transformers: a static cache cannot be quantized; drop --kv-dtype q4/q8 or the static cache");
  }
  const half = dtypeBytes(dep);
  const perElem = elemBytes(dep);
  const groups = t.groupFirst.length;
  // MambaCache / Mamba2 / HybridMambaAttentionDynamicCache: conv_states and ssm_states per sequence in the model dtype.
  // conv_states keep the whole kernel window, zeros(batch, channels, conv_kernel_size) (models/mamba/modeling_mamba.py
  // MambaCache; the slow path rolls it and sums conv_state × conv1d.weight over all conv_kernel_size columns), where the
  // cache spec (llama.cpp's layout) counts conv_kernel_size - 1 columns.
  const statePerSeq = new Float64Array(groups);
  let bytesPerToken = 0;
  for (let g = 0; g < groups; g++) {
    const i = t.groupFirst[g];
    const k = t.kind[i];
    if (k === CACHE_CODE.recurrent) {
      const kernel = convKernel(model, i);
      statePerSeq[g] = (t.convElems[i] * (kernel > 1 ? kernel / (kernel - 1) : 1) + t.stateElems[i]) * half;
    } else if (k === CACHE_CODE.full || k === CACHE_CODE.mla) bytesPerToken += t.elems[i] * perElem * t.groupCount[g];
  }
  const groupBytes = (context: number, seqs: number): Float64Array => {
    const out = new Float64Array(groups);
    for (let g = 0; g < groups; g++) {
      const i = t.groupFirst[g];
      const k = t.kind[i];
      if (k === CACHE_CODE.recurrent) out[g] = statePerSeq[g] * seqs;
      else if (k !== CACHE_CODE.none) {
        const tokens = tokensHeld(t, i, context);
        if (q) {
          // QuantizedLayer: tokens past the residual are quantized; up to residual_length stay in the model dtype.
          const residual = Math.min(tokens, HF_QKV_RESIDUAL);
          out[g] = ((tokens - residual) * perElem + residual * half) * t.elems[i] * seqs;
        } else out[g] = t.elems[i] * perElem * tokens * seqs;
      }
    }
    return out;
  };
  const widths = activationWidths(model);
  const dequant = bnb4DequantBytes(model, dep);
  /**
   * DynamicSlidingWindowLayer.update at prefill: torch.cat builds all `context` tokens and self.keys becomes a view of
   * its last window - 1, so each sliding layer keeps the whole prompt's storage until its first decode step.
   */
  const slidingPinned = (context: number): number => {
    let b = 0;
    for (let j = 0; j < t.bounded.length; j++) {
      const i = t.bounded[j];
      if (t.kind[i] === CACHE_CODE.sliding || t.kind[i] === CACHE_CODE.chunked) b += t.groupCount[t.groupOf[i]] * t.elems[i] * perElem * Math.max(0, context - t.span[i]);
    }
    return b;
  };
  /** DynamicLayer.update: torch.cat allocates the grown K/V while the old ones are still referenced (one layer). */
  const largestLayer = (context: number): number => {
    let m = t.maxFullElems * half * context;
    for (let j = 0; j < t.bounded.length; j++) {
      const i = t.bounded[j];
      m = Math.max(m, t.elems[i] * half * tokensHeld(t, i, context));
    }
    return m;
  };
  return {
    kvBytes(context, seqs) {
      const b = groupBytes(context, seqs);
      let total = 0;
      for (let g = 0; g < groups; g++) total += b[g] * t.groupCount[g];
      return total;
    },
    kvPerLayer: (context, seqs) => expandGroups(t, groupBytes(context, seqs)),
    kvBytesPerToken: () => bytesPerToken,
    activationBytes(context, seqs) {
      // generate() runs the whole prompt in one forward (no chunking); one block's outputs are live at a time.
      const prefill = seqs * context * widths.peakElemsPerToken * half;
      // A QuantizedLayer returns a dequantized 16-bit copy of the whole layer on every step.
      const grow = isStatic && !q ? 0 : largestLayer(context) * seqs;
      const pinned = isStatic ? 0 : slidingPinned(context) * seqs;
      // generate() sets logits_to_keep=1: last-token logits, upcast to float32 (GenerationMixin._sample .float()).
      const logits = seqs * widths.vocab * 4 * 2;
      return prefill + grow + pinned + logits + dequant;
    },
    overheadBytes: () => 0,
    cacheBasis: cacheBasis(dep, q),
    activationBasis:
      "estimate: the whole prompt (context tokens) through the widest block in one forward (SDPA/flash, no score matrix), one layer's K/V copied by torch.cat, sliding layers' prompt storage pinned by the window view until the first decode step, last-token logits in float32 (generate logits_to_keep=1)" +
      (dequant ? "; bitsandbytes 4-bit: the largest linear dequantized for the prefill matmul (16-bit, plus a float32 copy when computing in float32: MatMul4Bit.forward)" : ""),
    overheadBasis: "0: torch.cuda.max_memory_allocated excludes the CUDA context and the caching allocator's reserved-but-free blocks (see nvidia-smi for those)",
    warnings: [],
  };
}
