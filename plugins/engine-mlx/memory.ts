// MLX (mlx-lm) memory rules. From mlx_lm/models/cache.py and mlx_lm/generate.py (ml-explore/mlx-lm, read at d78bf58e,
// 2026-08). Figures are what mx.get_peak_memory() counts (active Metal buffers): what `mlx_lm.generate` prints as
// "Peak memory" and `mlx_lm.benchmark` as peak_memory (both in GB = 1e9 bytes).
import { CACHE_CODE, InputError, activationWidths, compileCacheTable, expandGroups } from "../../lib/calc/index.js";
import type { CacheTable, DeploymentShape, EngineTable, KvDtype, LatentAttention, ModelSpec } from "../../lib/calc/index.js";

/** KVCache / RotatingKVCache / QuantizedKVCache grow their buffers in steps of 256 tokens (cache.py `step = 256`). */
export const MLX_KV_STEP = 256;
/** generate_step(prefill_step_size=2048): the prompt is run in chunks of at most this many tokens. */
export const MLX_PREFILL_STEP = 2048;
/** QuantizedKVCache(group_size=64) and generate's --kv-group-size default. */
export const MLX_KV_GROUP = 64;
/** Bytes of the model dtype (fp16/bf16): MLX caches keys/values in the dtype of the projections' output. */
const DTYPE_BYTES = 2;

/**
 * mlx_lm model modules (HF model_type, with MODEL_REMAPPING) whose make_cache() gives the sliding-window layers the
 * architecture declares a RotatingKVCache(max_size=sliding_window). Every other model gets a plain KVCache per layer
 * (make_prompt_cache), so e.g. Mistral 7B v0.1 (llama.py without layer_types) and Gemma 2 (gemma2.py has no
 * make_cache) keep the full context on every layer. Source: `git grep "RotatingKVCache("` over mlx_lm/models.
 */
const ROTATING_SLIDING = new Set([
  "gemma3", "gemma3_text", "gemma3n", "gemma4", "gemma4_text", "gpt_oss", "cohere2", "olmo3", "exaone4", "exaone_moe",
  "mimo_v2_flash", "ministral3", "afmoe", "baichuan_m1", "step3p5", "mellum", "laguna", "recurrent_gemma", "llama",
]);

/**
 * Model types whose mlx_lm model defines make_cache() (`git grep "def make_cache"` over mlx_lm/models, plus
 * MODEL_REMAPPING: mistral -> llama). make_prompt_cache uses it and then ignores --max-kv-size.
 */
const MAKE_CACHE = new Set([
  "afm7", "afmoe", "baichuan_m1", "bailing_moe_linear", "cohere2", "deepseek_v32", "exaone4", "exaone_moe", "falcon_h1",
  "gemma3", "gemma3_text", "gemma3n", "gemma4", "gemma4_text", "gpt_oss", "granitemoehybrid", "iquestloopcoder", "jamba",
  "kimi_linear", "laguna", "lfm2", "lfm2_moe", "llama", "mistral", "iquestcoder", "llama4", "longcat_flash", "mamba", "mamba2",
  "falcon_mamba", "mellum", "mimo_v2_flash", "ministral3", "nemotron_h", "olmo3", "plamo2", "qwen3_5", "qwen3_5_moe",
  "qwen3_next", "recurrent_gemma", "rwkv7", "step3p5",
]);

/** deepseek_v3.py (since "DSV3 MLA", mlx-lm#839) caches the MLA latent; deepseek_v2.py caches expanded heads (cache/mla.ts). */
function mlaMode(model: ModelSpec): "latent" | "expanded" {
  return model.modelType === "deepseek_v2" ? "expanded" : "latent";
}

/** Bytes per cached element for an MLX KV dtype: model dtype, or QuantizedKVCache packed values + dtype scale and bias per group. */
export function mlxKvBytesPerElem(dtype: KvDtype, group = MLX_KV_GROUP): number {
  switch (dtype) {
    case "f16":
    case "bf16":
      return 2;
    case "f32":
      return 4;
    case "q8":
      return 1 + (2 * DTYPE_BYTES) / group;
    case "q4":
      return 0.5 + (2 * DTYPE_BYTES) / group;
    default:
      throw new InputError(`MLX caches keys/values in the model dtype or quantized (--kv-bits 8|4): use --kv-dtype f16, bf16, f32, q8 or q4, not ${dtype}`);
  }
}

/** Allocated tokens of a KVCache that has seen `tokens` tokens: ceil to the 256-token step (KVCache.update_and_fetch). */
export function mlxKvCapacity(tokens: number): number {
  return Math.ceil(tokens / MLX_KV_STEP) * MLX_KV_STEP;
}

function validate(model: ModelSpec, dep: DeploymentShape, makeCache: boolean): void {
  if (dep.kvDtypeK !== dep.kvDtypeV) throw new InputError("MLX uses one KV cache dtype for keys and values (--kv-bits); give one --kv-dtype");
  if (dep.kvDtypeK !== "q8" && dep.kvDtypeK !== "q4") return;
  const group = dep.options?.kvGroupSize ?? MLX_KV_GROUP;
  if (dep.options?.maxKvSize !== undefined && !makeCache) {
    throw new InputError('MLX cannot combine --max-kv-size with a quantized KV cache: RotatingKVCache.to_quantized raises "RotatingKVCache Quantization NYI"');
  }
  for (const l of model.layers) {
    const c = l.cache;
    if (c.kind === "sliding" && ROTATING_SLIDING.has(model.modelType)) {
      throw new InputError(`MLX cannot quantize the rotating (sliding-window) cache of ${model.modelType}: RotatingKVCache.to_quantized raises "RotatingKVCache Quantization NYI"`);
    }
    if (c.kind === "full" || c.kind === "sliding") {
      if (c.headDimK % group || c.headDimV % group) throw new InputError(`MLX --kv-group-size ${group} must divide the head dim (${c.headDimK}/${c.headDimV})`);
    }
  }
}

/** Tokens layer i allocates for one sequence (before the per-token element count). */
function tokensAllocated(t: CacheTable, i: number, ctxCap: number, full: number, rotating: boolean): number {
  switch (t.kind[i]) {
    case CACHE_CODE.full:
    case CACHE_CODE.mla:
      return full;
    case CACHE_CODE.sliding:
      // RotatingKVCache grows by min(step, max_size - prev) and trims back to max_size (_update_in_place).
      return rotating ? Math.min(ctxCap, t.span[i]) : full;
    case CACHE_CODE.chunked:
      // ChunkedKVCache (llama4.py): trims the front to chunk_size, growing in 256-token steps past it.
      return Math.min(ctxCap, t.span[i] + MLX_KV_STEP);
    case CACHE_CODE.cross:
      return t.span[i];
    default:
      return 0;
  }
}

const ACT_BASIS = `estimate: one prefill chunk of min(context, prefill_step_size = ${MLX_PREFILL_STEP} by default) tokens (generate_step) through the widest block in the model dtype, fused SDPA (no score matrix), one layer's KV buffer copied while KVCache grows (mx.concatenate), rotating (sliding) layers holding window - 1 + chunk tokens during prefill, for MLA the rope scores and the latent expanded per head at prefill (deepseek_v3.py), last-token logits`;
const OVERHEAD_BASIS = "0: mx.get_peak_memory counts active buffers only; freed buffers kept in MLX's Metal buffer cache (mx.set_cache_limit, cleared by mx.clear_cache every 256 tokens) and macOS's wired-memory limit are not counted";

function cacheBasis(dtype: KvDtype, group: number, mla: "latent" | "expanded"): string[] {
  const kvNote = dtype === "q8" || dtype === "q4"
    ? `QuantizedKVCache ${dtype === "q8" ? 8 : 4}-bit, group ${group}: packed values + model-dtype scale and bias per group`
    : `keys/values in ${dtype}`;
  return [
    `MLX KV: KVCache buffers grow in ${MLX_KV_STEP}-token steps (mlx_lm/models/cache.py KVCache.update_and_fetch), ${kvNote}; ` +
      `sliding layers use RotatingKVCache(max_size=window) only where the model's make_cache asks for it; MLA ${mla === "latent" ? "caches the latent (deepseek_v3.py)" : "caches expanded heads (deepseek_v2.py)"}; SSM state per sequence (ArraysCache)`,
  ];
}

function warnings(model: ModelSpec, dep: DeploymentShape, t: CacheTable, rotating: boolean, makeCache: boolean): string[] {
  const slidingIgnored = !rotating && t.kind.includes(CACHE_CODE.sliding);
  const out: string[] = [];
  if (slidingIgnored) out.push(`MLX: mlx_lm's ${model.modelType} model keeps a full KVCache on its sliding-window layers (no RotatingKVCache), so they grow with the context`);
  if (dep.options?.maxKvSize !== undefined && makeCache) {
    out.push(`MLX: --max-kv-size is ignored for ${model.modelType}: its mlx_lm model builds its own cache (make_cache), so make_prompt_cache never makes the rotating one`);
  }
  return out;
}

export function compileMlx(model: ModelSpec, dep: DeploymentShape): EngineTable {
  const makeCache = MAKE_CACHE.has(model.modelType);
  validate(model, dep, makeCache);
  const group = dep.options?.kvGroupSize ?? MLX_KV_GROUP;
  const perElem = mlxKvBytesPerElem(dep.kvDtypeK, group);
  const mla = mlaMode(model);
  const t = compileCacheTable(model, mla);
  const rotating = ROTATING_SLIDING.has(model.modelType);
  const maxKv = dep.options?.maxKvSize;
  // --max-kv-size only reaches models without their own make_cache (make_prompt_cache builds RotatingKVCache(max_kv_size, keep=4)).
  const capFull = maxKv !== undefined && !makeCache;
  const widths = activationWidths(model);
  const prefillStep = dep.options?.prefillStepSize ?? MLX_PREFILL_STEP;
  const firstMla = model.layers.find((l) => l.cache.kind === "mla")?.cache as LatentAttention | undefined;
  const groups = t.groupFirst.length;
  let bytesPerToken = 0;
  // Per group: bytes per token of one sequence (attention kinds; the chunked cache stays in the model dtype because
  // only KVCache has to_quantized, maybe_quantize_kv_cache), or state bytes per sequence (recurrent: conv state in the
  // model dtype, SSM / gated-delta state in float32, ssm.py and gated_delta.py).
  const perTok = new Float64Array(groups);
  const perSeq = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    const i = t.groupFirst[g];
    const k = t.kind[i];
    if (k === CACHE_CODE.recurrent) perSeq[g] = t.convElems[i] * DTYPE_BYTES + t.stateElems[i] * 4;
    else if (k !== CACHE_CODE.none) {
      perTok[g] = t.elems[i] * (k === CACHE_CODE.chunked ? DTYPE_BYTES : perElem);
      if (k === CACHE_CODE.full || k === CACHE_CODE.mla) bytesPerToken += perTok[g] * t.groupCount[g];
    }
  }
  const groupBytes = (context: number, seqs: number): Float64Array => {
    const ctxCap = mlxKvCapacity(context);
    const full = capFull ? Math.min(ctxCap, maxKv!) : ctxCap;
    const out = new Float64Array(groups);
    for (let g = 0; g < groups; g++) {
      const i = t.groupFirst[g];
      out[g] = t.kind[i] === CACHE_CODE.recurrent ? perSeq[g] * seqs : perTok[g] * tokensAllocated(t, i, ctxCap, full, rotating) * seqs;
    }
    return out;
  };
  /** KVCache.update_and_fetch grows with mx.concatenate: old and new buffer of the largest layer live together. */
  const largestLayer = (context: number): number => {
    const ctxCap = mlxKvCapacity(context);
    const full = capFull ? Math.min(ctxCap, maxKv!) : ctxCap;
    let m = t.maxFullIndex >= 0 ? t.maxFullElems * perElem * tokensAllocated(t, t.maxFullIndex, ctxCap, full, rotating) : 0;
    for (let j = 0; j < t.bounded.length; j++) {
      const i = t.bounded[j];
      m = Math.max(m, t.elems[i] * perElem * tokensAllocated(t, i, ctxCap, full, rotating));
    }
    return m;
  };
  /**
   * RotatingKVCache._update_concat (prefill, S > 1 tokens) keeps max_size - 1 old tokens plus the S new ones, trimming
   * back to max_size only on the next single-token update: during a prefill of S-token chunks every rotating layer
   * holds up to window - 1 + S tokens at once.
   */
  const rotatingExcess = (context: number, chunk: number): number => {
    if (!rotating) return 0;
    const ctxCap = mlxKvCapacity(context);
    let b = 0;
    for (let j = 0; j < t.bounded.length; j++) {
      const i = t.bounded[j];
      if (t.kind[i] !== CACHE_CODE.sliding) continue;
      const steady = Math.min(ctxCap, t.span[i]);
      const during = Math.min(context, t.span[i] - 1 + chunk);
      if (during > steady) b += t.groupCount[t.groupOf[i]] * t.elems[i] * perElem * (during - steady);
    }
    return b;
  };
  /**
   * deepseek_v3.py DeepseekV3Attention at prefill (L > 1): pe_scores = q_pe @ k_pe^T is materialized for every head
   * ([H, L, S] in the model dtype) and masked with mx.where (a second array), then passed as the SDPA mask; the
   * latent is expanded to per-head keys (embed_q) and values (unembed_out) for all S cached tokens.
   */
  const mlaPrefill = (chunk: number, context: number): number => {
    if (!firstMla || mla !== "latent" || chunk < 2) return 0;
    const c = firstMla;
    return (2 * c.nHeads * chunk * context + c.nHeads * context * (c.qkNopeHeadDim + c.vHeadDim)) * DTYPE_BYTES;
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
      const chunk = Math.min(context, prefillStep);
      // One prompt chunk through the widest block (mx.fast.scaled_dot_product_attention is fused: no score matrix).
      const prefill = chunk * widths.peakElemsPerToken * DTYPE_BYTES;
      const grow = largestLayer(context) * seqs;
      const rot = rotatingExcess(context, chunk) * seqs;
      // Logits of the last token only (generate_step peels the last prompt token off, mlx-lm#406) and its log-softmax.
      const logits = seqs * widths.vocab * 4 * 2;
      return prefill + grow + rot + mlaPrefill(chunk, context) + logits;
    },
    overheadBytes: () => 0,
    cacheBasis: cacheBasis(dep.kvDtypeK, group, mla),
    activationBasis: ACT_BASIS,
    overheadBasis: OVERHEAD_BASIS,
    warnings: warnings(model, dep, t, rotating, makeCache),
  };
}
