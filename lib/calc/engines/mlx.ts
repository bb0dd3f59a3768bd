// MLX (mlx-lm) memory profile. Rules from mlx_lm/models/cache.py and mlx_lm/generate.py (ml-explore/mlx-lm,
// read at d78bf58e, 2026-08). Figures are what mx.get_peak_memory() counts (active Metal buffers), which is what
// `mlx_lm.generate` prints as "Peak memory" and `mlx_lm.benchmark` as peak_memory (both in GB = 1e9 bytes).
import { InputError } from "../types.js";
import type { CacheSpec, Deployment, KvDtype, ModelSpec } from "../types.js";
import type { CacheResult, EngineProfile } from "./profile.js";
import { kvElemsPerToken } from "./common.js";
import { activationWidths } from "./shapes.js";

/** KVCache / RotatingKVCache / QuantizedKVCache grow their buffers in steps of 256 tokens (cache.py `step = 256`). */
export const MLX_KV_STEP = 256;
/** generate_step(prefill_step_size=2048): the prompt is run in chunks of at most this many tokens. */
export const MLX_PREFILL_STEP = 2048;
/** QuantizedKVCache(group_size=64) and generate's --kv-group-size default. */
export const MLX_KV_GROUP = 64;
/** Bytes of the model dtype (fp16/bf16): MLX caches keys/values in the dtype of the projections' output. */
const DTYPE_BYTES = 2;

/**
 * Model types whose mlx_lm make_cache() gives sliding-window layers a RotatingKVCache(max_size=sliding_window).
 * Every other model gets a plain KVCache per layer (make_prompt_cache), so e.g. Mistral 7B v0.1 (llama.py
 * without layer_types) and Gemma 2 (gemma2.py has no make_cache) keep the full context on every layer.
 * Source: `git grep "RotatingKVCache("` over mlx_lm/models.
 */
const ROTATING_SLIDING = new Set([
  "gemma3", "gemma3_text", "gemma3n", "gemma4", "gemma4_text", "gpt_oss", "cohere2", "olmo3", "exaone4", "exaone_moe",
  "mimo_v2_flash", "ministral3", "afmoe", "baichuan_m1", "step3p5", "mellum", "laguna", "recurrent_gemma", "llama",
]);

/**
 * MLA: mlx_lm/models/deepseek_v3.py (since "DSV3 MLA", mlx-lm#839) caches the latent: cache.update_and_fetch(kv_latent,
 * k_pe) = kv_lora_rank + rope dims per token. deepseek_v2.py still caches expanded per-head keys (nope + rope) and values.
 */
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

function validate(model: ModelSpec, dep: Deployment): void {
  if (dep.kvDtypeK !== dep.kvDtypeV) throw new InputError("MLX uses one KV cache dtype for keys and values (--kv-bits); give one --kv-dtype");
  const quantized = dep.kvDtypeK === "q8" || dep.kvDtypeK === "q4";
  if (quantized) {
    const group = dep.options?.kvGroupSize ?? MLX_KV_GROUP;
    if (dep.options?.maxKvSize !== undefined && !hasMakeCache(model)) {
      throw new InputError('MLX cannot combine --max-kv-size with a quantized KV cache: RotatingKVCache.to_quantized raises "RotatingKVCache Quantization NYI"');
    }
    for (const l of model.layers) {
      const c = l.cache;
      if (c.kind === "sliding" && ROTATING_SLIDING.has(model.modelType)) {
        throw new InputError(`MLX cannot quantize the rotating (sliding-window) cache of ${model.modelType}: RotatingKVCache.to_quantized raises "RotatingKVCache Quantization NYI"`);
      }
      if (c.kind === "full" || c.kind === "sliding" || c.kind === "chunked") {
        if (c.headDimK % group || c.headDimV % group) throw new InputError(`MLX --kv-group-size ${group} must divide the head dim (${c.headDimK}/${c.headDimV})`);
      }
    }
  }
}

/** Tokens one layer allocates for one sequence (before the per-token element count). */
function tokensAllocated(model: ModelSpec, c: CacheSpec, dep: Deployment): number {
  const ctx = dep.context;
  const maxKv = dep.options?.maxKvSize;
  switch (c.kind) {
    case "full":
    case "mla":
      // --max-kv-size: make_prompt_cache gives every layer RotatingKVCache(max_kv_size, keep=4), but only for models
      // without their own make_cache.
      if (maxKv !== undefined && !hasMakeCache(model)) return Math.min(mlxKvCapacity(ctx), maxKv);
      return mlxKvCapacity(ctx);
    case "sliding":
      // RotatingKVCache grows by min(step, max_size - prev) and trims back to max_size (_update_in_place).
      if (ROTATING_SLIDING.has(model.modelType)) return Math.min(mlxKvCapacity(ctx), c.window + (c.sinkTokens ?? 0));
      return maxKv !== undefined && !hasMakeCache(model) ? Math.min(mlxKvCapacity(ctx), maxKv) : mlxKvCapacity(ctx);
    case "chunked":
      // ChunkedKVCache (llama4.py): trims the front to chunk_size, growing in 256-token steps past it.
      return Math.min(mlxKvCapacity(ctx), c.chunk + MLX_KV_STEP);
    case "cross":
      return c.encoderTokens;
    default:
      return 0;
  }
}

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
function hasMakeCache(model: ModelSpec): boolean {
  return MAKE_CACHE.has(model.modelType);
}

function cache(model: ModelSpec, dep: Deployment): CacheResult {
  validate(model, dep);
  const perElem = mlxKvBytesPerElem(dep.kvDtypeK, dep.options?.kvGroupSize);
  const mla = mlaMode(model);
  const perLayer: number[] = new Array(model.layers.length);
  let total = 0;
  let bytesPerToken = 0;
  for (let i = 0; i < model.layers.length; i++) {
    const c = model.layers[i].cache;
    let bytes: number;
    if (c.kind === "recurrent") {
      // ArraysCache: conv state in the model dtype, SSM / gated-delta state in float32 (ssm.py, gated_delta.py mx.float32).
      bytes = (c.convElems * DTYPE_BYTES + c.stateElems * 4) * dep.seqs;
    } else if (c.kind === "none") {
      bytes = 0;
    } else {
      const e = kvElemsPerToken(c, mla);
      const perTok = (e.k + e.v) * perElem;
      if (c.kind === "full" || c.kind === "mla") bytesPerToken += perTok;
      bytes = perTok * tokensAllocated(model, c, dep) * dep.seqs;
    }
    perLayer[i] = bytes;
    total += bytes;
  }
  const kvNote = dep.kvDtypeK === "q8" || dep.kvDtypeK === "q4"
    ? `QuantizedKVCache ${dep.kvDtypeK === "q8" ? 8 : 4}-bit, group ${dep.options?.kvGroupSize ?? MLX_KV_GROUP}: packed values + model-dtype scale and bias per group`
    : `keys/values in ${dep.kvDtypeK}`;
  return {
    perLayer,
    total,
    bytesPerToken,
    basis: [
      `MLX KV: KVCache buffers grow in ${MLX_KV_STEP}-token steps (mlx_lm/models/cache.py KVCache.update_and_fetch), ${kvNote}; ` +
        `sliding layers use RotatingKVCache(max_size=window) only where the model's make_cache asks for it; MLA ${mla === "latent" ? "caches the latent (deepseek_v3.py)" : "caches expanded heads (deepseek_v2.py)"}; SSM state per sequence (ArraysCache)`,
    ],
  };
}

function kvBytesOfLargestLayer(model: ModelSpec, dep: Deployment, perElem: number): number {
  let m = 0;
  const mla = mlaMode(model);
  for (const l of model.layers) {
    const c = l.cache;
    if (c.kind === "recurrent" || c.kind === "none") continue;
    const e = kvElemsPerToken(c, mla);
    m = Math.max(m, (e.k + e.v) * perElem * tokensAllocated(model, c, dep));
  }
  return m;
}

export const mlxProfile: EngineProfile = {
  id: "mlx",
  label: "MLX (mlx-lm)",
  cache,
  activations(model, dep) {
    const w = activationWidths(model);
    const chunk = Math.min(dep.context, dep.options?.prefillStepSize ?? MLX_PREFILL_STEP);
    // One prompt chunk through the widest block (mx.fast.scaled_dot_product_attention is fused: no score matrix).
    const prefill = chunk * w.peakElemsPerToken * DTYPE_BYTES;
    // KVCache.update_and_fetch grows with mx.concatenate: old and new buffer of one layer live together.
    const grow = kvBytesOfLargestLayer(model, dep, mlxKvBytesPerElem(dep.kvDtypeK, dep.options?.kvGroupSize)) * dep.seqs;
    // Logits of the last token only (generate_step peels the last prompt token off, mlx-lm#406) and its log-softmax.
    const logits = dep.seqs * w.vocab * 4 * 2;
    return {
      bytes: prefill + grow + logits,
      basis: `estimate: one ${chunk}-token prefill chunk (generate_step prefill_step_size) through the widest block in the model dtype, fused SDPA (no score matrix), one layer's KV buffer copied while KVCache grows (mx.concatenate), last-token logits`,
    };
  },
  overhead: () => ({
    bytes: 0,
    basis: "0: mx.get_peak_memory counts active buffers only; freed buffers kept in MLX's Metal buffer cache (mx.set_cache_limit, cleared by mx.clear_cache every 256 tokens) and macOS's wired-memory limit are not counted",
  }),
  warnings(model, dep) {
    const out: string[] = [];
    if (model.layers.some((l) => l.cache.kind === "sliding") && !ROTATING_SLIDING.has(model.modelType)) {
      out.push(`MLX: mlx_lm's ${model.modelType} model keeps a full KVCache on its sliding-window layers (no RotatingKVCache), so they grow with the context`);
    }
    if (dep.options?.maxKvSize !== undefined && hasMakeCache(model)) {
      out.push(`MLX: --max-kv-size is ignored for ${model.modelType}: its mlx_lm model builds its own cache (make_cache), so make_prompt_cache never makes the rotating one`);
    }
    return out;
  },
};
