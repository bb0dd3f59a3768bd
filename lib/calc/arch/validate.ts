// The last check of every ModelSpec, whatever built it (an HF config.json family or a GGUF header): sizes are whole
// numbers within lib/calc/limits.ts, heads split evenly into KV heads, caches and tensors have real shapes. A model
// that passes cannot make a plan produce NaN, Infinity or unbounded work. Errors name the field as the source calls it.
import { InputError } from "../types.js";
import type { CacheSpec, ModelSpec, TensorSpec } from "../types.js";
import { LIMITS, limitReason } from "../limits.js";
import type { LimitName } from "../limits.js";

/** How the model's source names each field, for the one-line error. */
export interface FieldNames {
  layers: string;
  hidden: string;
  vocab: string;
  heads: string;
  kvHeads: string;
  headDim: string;
  window: string;
  chunk: string;
  experts: string;
  activeExperts: string;
  context: string;
}

export const HF_FIELD_NAMES: FieldNames = {
  layers: "num_hidden_layers",
  hidden: "hidden_size",
  vocab: "vocab_size",
  heads: "num_attention_heads",
  kvHeads: "num_key_value_heads",
  headDim: "head_dim (or hidden_size / num_attention_heads)",
  window: "sliding_window",
  chunk: "attention_chunk_size",
  experts: "num_experts",
  activeExperts: "num_experts_per_tok",
  context: "max_position_embeddings",
};

export function ggufFieldNames(arch: string): FieldNames {
  const k = (s: string) => `${arch}.${s}`;
  return {
    layers: k("block_count"),
    hidden: k("embedding_length"),
    vocab: "tokenizer.ggml.tokens",
    heads: k("attention.head_count"),
    kvHeads: k("attention.head_count_kv"),
    headDim: k("attention.key_length"),
    window: k("attention.sliding_window"),
    chunk: k("attention.chunk_size"),
    experts: k("expert_count"),
    activeExperts: k("expert_used_count"),
    context: k("context_length"),
  };
}

const isWhole = (v: unknown, min: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= min;

/**
 * Throws one InputError for the first impossible value. `headsOf(i)` gives layer i's query heads when they vary per
 * layer (GGUF per-layer arrays); otherwise the model's nHeads is used.
 */
export function validateModelSpec(m: ModelSpec, names: FieldNames, headsOf?: (i: number) => number): ModelSpec {
  const fail = (msg: string): never => {
    throw new InputError(`${m.id}: ${msg}`);
  };
  const wholeOr = (failWith: (msg: string) => never): Whole => (v, field, min, limit) => {
    if (!isWhole(v, min)) failWith(`${field} must be a whole number ≥ ${min}, got ${typeof v === "number" ? v : JSON.stringify(v)}`);
    if ((v as number) > LIMITS[limit].max) failWith(`${field} is ${v}, too large (${limitReason(limit)})`);
  };
  const whole = wholeOr(fail);
  if (m.layers.length === 0) fail(`${names.layers} is 0: a model needs at least one layer`);
  whole(m.layers.length, names.layers, 1, "layers");
  whole(m.hiddenSize, names.hidden, 1, "hidden");
  // 0 only for a GGUF described without its tokenizer (evidence rebuilt from logs); a file must have one (gguf.ts).
  whole(m.vocabSize, names.vocab, 0, "vocab");
  whole(m.nHeads, names.heads, 0, "heads");
  whole(m.maxContext, names.context, 1, "context");
  for (const l of m.layers) {
    const heads = headsOf ? headsOf(l.index) : m.nHeads;
    const inLayer = (msg: string) => fail(`layer ${l.index}: ${msg}`);
    checkCache(l.cache, heads, names, wholeOr(inLayer), inLayer);
    if (l.moe) {
      whole(l.moe.experts, names.experts, 1, "experts");
      whole(l.moe.activeExperts, names.activeExperts, 1, "experts");
      if (l.moe.activeExperts > l.moe.experts) fail(`${names.activeExperts} (${l.moe.activeExperts}) exceeds ${names.experts} (${l.moe.experts})`);
      whole(l.moe.sharedExperts, "shared experts", 0, "experts");
    }
    for (const t of l.tensors) checkTensor(t, fail);
  }
  for (const t of m.globals) checkTensor(t, fail);
  if (m.vision && !(Number.isFinite(m.vision.params) && m.vision.params >= 0)) fail(`vision tower parameters are not a finite count (${m.vision.params})`);
  return m;
}

type Whole = (v: unknown, field: string, min: number, limit: LimitName) => void;

function checkCache(c: CacheSpec, heads: number, n: FieldNames, whole: Whole, fail: (msg: string) => never): void {
  switch (c.kind) {
    case "full":
    case "sliding":
    case "chunked":
    case "cross":
      whole(c.nKvHeads, n.kvHeads, 1, "heads");
      whole(c.headDimK, n.headDim, 1, "dim");
      whole(c.headDimV, n.headDim, 1, "dim");
      // Grouped-query attention shares each KV head among heads / kv_heads query heads (transformers repeat_kv,
      // vLLM Attention num_queries_per_kv = num_heads // num_kv_heads, llama.cpp n_gqa()): it must divide evenly.
      if (heads > 0 && heads % c.nKvHeads !== 0) fail(`${n.heads} (${heads}) is not divisible by ${n.kvHeads} (${c.nKvHeads})`);
      if (c.kind === "sliding") whole(c.window, n.window, 0, "context");
      if (c.kind === "sliding" && c.sinkTokens !== undefined) whole(c.sinkTokens, "attention sink tokens", 0, "context");
      if (c.kind === "chunked") whole(c.chunk, n.chunk, 1, "context");
      if (c.kind === "cross") whole(c.encoderTokens, "encoder tokens", 1, "context");
      return;
    case "mla":
      whole(c.nHeads, n.heads, 1, "heads");
      whole(c.kvLoraRank, "kv_lora_rank", 1, "dim");
      whole(c.ropeDim, "qk_rope_head_dim", 0, "dim");
      whole(c.qkNopeHeadDim, "qk_nope_head_dim", 0, "dim");
      whole(c.vHeadDim, "v_head_dim", 1, "dim");
      return;
    case "recurrent":
      if (!isWhole(c.convElems, 0) || !isWhole(c.stateElems, 0) || c.convElems + c.stateElems > Number.MAX_SAFE_INTEGER) {
        fail(`recurrent state sizes must be whole numbers (conv ${c.convElems}, state ${c.stateElems})`);
      }
      return;
    case "none":
      return;
  }
}

/** ggml allows at most 4 dimensions (GGML_MAX_DIMS); every dimension is a whole number and the product is exact. */
function checkTensor(t: TensorSpec, fail: (msg: string) => never): void {
  let n = 1;
  for (const d of t.shape) {
    if (!isWhole(d, 0)) fail(`tensor ${t.name} has an impossible shape [${t.shape.join(", ")}]`);
    n *= d;
  }
  if (t.shape.length > 4 || n > Number.MAX_SAFE_INTEGER) fail(`tensor ${t.name} has an impossible shape [${t.shape.join(", ")}]`);
}
