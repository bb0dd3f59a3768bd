// Gemma 4 (model_type "gemma4" = Gemma4ForConditionalGeneration: text_config + gemma4_vision tower [+ audio tower on
// E2B/E4B]; "gemma4_text" = Gemma4ForCausalLM). Sources read:
//  - transformers models/gemma4/configuration_gemma4.py Gemma4TextConfig / Gemma4VisionConfig (defaults below);
//  - transformers models/gemma4/modeling_gemma4.py Gemma4TextAttention, Gemma4TextMLP, Gemma4TextRouter,
//    Gemma4TextExperts, Gemma4TextDecoderLayer, Gemma4TextModel, Gemma4Vision*, Gemma4MultimodalEmbedder;
//  - vLLM model_executor/models/gemma4.py Gemma4Attention / Gemma4DecoderLayer (+ gemma4_mm.py);
//  - llama.cpp src/models/gemma4.cpp llama_model_gemma4::load_arch_tensors (GGUF tensor names used here).
// What each engine does with the Gemma 4 specifics:
//  - sliding layers: num_key_value_heads × head_dim, window `sliding_window`; full layers: global_head_dim and, when
//    attention_k_eq_v, num_global_key_value_heads (Gemma4TextAttention.__init__; vLLM Gemma4DecoderLayer.__init__);
//  - attention_k_eq_v (full layers only): no v_proj in the checkpoint (Gemma4TextAttention: v_proj None, value = key
//    before k_norm / v_norm), but V is still cached as its own tensor everywhere: transformers updates the Cache with
//    (key, value) after the different norms; vLLM loads K into both K and V slots of qkv_proj and caches V like any
//    layer (kv_cache FullAttentionSpec with head_size_v = head_size); llama.cpp uses Kcur as Vcur and stores both.
//    vLLM therefore also holds a (duplicated) V projection per full layer — not counted here (checkpoint view);
//  - num_kv_shared_layers: the last N layers read the KV of the last earlier layer of the same type and keep no
//    cache (vLLM kv_sharing_target_layer_name; llama.cpp n_layer_kv_from_start / has_kv(il); transformers
//    shared_kv_states). Their k_proj / v_proj / k_norm stay in the checkpoint (llama.cpp loads them as
//    TENSOR_NOT_REQUIRED, vLLM allocates qkv_proj for every layer, transformers skips them on load), so they are counted;
//  - enable_moe_block: every layer keeps the dense GeGLU MLP (intermediate_size, doubled on KV-shared layers when
//    use_double_wide_mlp) AND adds the routed experts (num_experts × moe_intermediate_size, top_k_experts) with a
//    router (proj + scale + per_expert_scale) and three extra norms; llama.cpp treats the dense MLP as a shared expert;
//  - hidden_size_per_layer_input (PLE, E2B/E4B): a packed embedding table vocab_size_per_layer_input ×
//    (num_hidden_layers × ple), a projection hidden → layers × ple and a norm, plus per layer a gate, a projection
//    and a norm;
//  - layer_scalar (a 1-element buffer saved in the checkpoint; llama.cpp layer_output_scale) per layer.
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, dtypeOf, finishModel, gatedFfnTensors, globalTensors, layer, moeTensors, normTensor, tensor } from "./common.js";
import { fullAttention, slidingWindow } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import { layerTypes, textConfigOf, withDefaults } from "./patterns.js";
import { InputError } from "../types.js";
import type { CacheSpec, LayerSpec, ModelSpec, TensorSpec, VisionSpec } from "../types.js";
import { isSwaLayer } from "./layer-pattern.js";
import type { LayerPattern } from "./layer-pattern.js";

/** Five sliding layers to one global (Gemma4TextConfig layer_types default). */
const GEMMA4_LAYERS = { swaPeriod: 6 } satisfies LayerPattern;

// Gemma4TextConfig class defaults (configuration_gemma4.py); global_head_dim defaults to 512 in __post_init__.
const GEMMA4_TEXT_DEFAULTS: HfConfig = {
  vocab_size: 262144, hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: 30, num_attention_heads: 8,
  num_key_value_heads: 4, head_dim: 256, global_head_dim: 512, max_position_embeddings: 131072, tie_word_embeddings: true,
  sliding_window: 512, vocab_size_per_layer_input: 262144, hidden_size_per_layer_input: 256, attention_k_eq_v: false,
  num_kv_shared_layers: 0, enable_moe_block: false, use_double_wide_mlp: false, attention_bias: false,
};

function buildGemma4Text(raw: HfConfig, id: string, modelType: string, vision?: (hidden: number) => VisionSpec, notes: string[] = []): ModelSpec {
  const config = withDefaults(raw, GEMMA4_TEXT_DEFAULTS);
  const r = new ConfigReader(config, id);
  const { hidden, nLayers, nHeads, intermediate, vocab } = r.decoderDims();
  const nKv = r.int("num_key_value_heads");
  const headDim = r.int("head_dim");
  const moe = r.optBool("enable_moe_block", false);
  const experts = moe ? r.int("num_experts") : 0;
  const topK = moe ? r.int("top_k_experts") : 0;
  const moeInter = moe ? r.int("moe_intermediate_size") : 0;
  r.done();
  const globalHeadDim = r.optInt("global_head_dim") || headDim;
  const kEqV = r.optBool("attention_k_eq_v", false);
  // Gemma4TextAttention: num_global_key_value_heads only for k_eq_v full layers (vLLM falls back to num_key_value_heads).
  const globalKv = kEqV ? (r.optInt("num_global_key_value_heads") ?? nKv) : nKv;
  const tied = r.optBool("tie_word_embeddings", true);
  const bias = r.optBool("attention_bias", false);
  const nShared = r.optInt("num_kv_shared_layers", 0);
  const doubleWide = r.optBool("use_double_wide_mlp", false);
  const ple = r.optInt("hidden_size_per_layer_input", 0);
  const plVocab = r.optInt("vocab_size_per_layer_input", vocab);
  let window = r.optInt("sliding_window", 512);
  // Gemma4TextConfig.__post_init__: bidirectional "all" (embedding variants) sets sliding_window // 2 + 1.
  if (config.use_bidirectional_attention === "all") window = Math.floor(window / 2) + 1;
  if (nShared < 0 || nShared >= nLayers) throw new InputError(`${id}: num_kv_shared_layers must be in [0, ${nLayers - 1}], got ${nShared}`);
  const types = layerTypes(config, id, nLayers, (i) => (isSwaLayer(GEMMA4_LAYERS.swaPeriod, i) ? "sliding_attention" : "full_attention"));
  // Gemma4TextConfig.__post_init__ forces the last layer to full attention.
  if (nLayers && types[nLayers - 1] !== "full_attention") {
    types[nLayers - 1] = "full_attention";
    notes.push(`gemma4: layer ${nLayers - 1} forced to full_attention (Gemma4TextConfig requires the last layer to be global)`);
  }
  if (types.some((t) => t === "chunked_attention")) throw new InputError(`${id}: Gemma 4 layer_types are sliding_attention / full_attention only`);
  const firstShared = nLayers - nShared;

  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const b = `blk.${i}.`;
    const sliding = types[i] === "sliding_attention";
    const hd = sliding ? headDim : globalHeadDim;
    const altAttn = kEqV && !sliding; // use_alternative_attention: no v_proj, V = K
    const kv = altAttn ? globalKv : nKv;
    const shared = nShared > 0 && i >= firstShared;
    const t: TensorSpec[] = [
      normTensor(b + "attn_norm", hidden),
      tensor(b + "attn_q", [hidden, nHeads * hd], "attention"),
      tensor(b + "attn_k", [hidden, kv * hd], "attention"),
    ];
    if (!altAttn) t.push(tensor(b + "attn_v", [hidden, kv * hd], "attention"));
    t.push(tensor(b + "attn_output", [nHeads * hd, hidden], "attention"));
    if (bias) {
      t.push(tensor(b + "attn_q.bias", [nHeads * hd], "norm"), tensor(b + "attn_k.bias", [kv * hd], "norm"));
      if (!altAttn) t.push(tensor(b + "attn_v.bias", [kv * hd], "norm"));
      t.push(tensor(b + "attn_output.bias", [hidden], "norm"));
    }
    // q_norm / k_norm carry a scale; v_norm has none (Gemma4RMSNorm with_scale=False).
    t.push(normTensor(b + "attn_q_norm", hd), normTensor(b + "attn_k_norm", hd), normTensor(b + "post_attention_norm", hidden));
    // Gemma4TextMLP: intermediate_size × 2 on KV-shared layers when use_double_wide_mlp.
    const inter = intermediate * (doubleWide && shared ? 2 : 1);
    t.push(normTensor(b + "ffn_norm", hidden), ...gatedFfnTensors(i, hidden, inter), normTensor(b + "post_ffw_norm", hidden));
    if (moe) {
      // Gemma4TextRouter: proj (hidden → experts), scale (hidden), per_expert_scale (experts); its norm has no weight.
      // Gemma4TextExperts: gate_up_proj experts × 2m × hidden, down_proj experts × hidden × m.
      t.push(
        ...moeTensors(i, hidden, moeInter, experts),
        normTensor(b + "ffn_gate_inp.scale", hidden),
        normTensor(b + "ffn_down_exps.scale", experts),
        normTensor(b + "pre_ffw_norm_2", hidden),
        normTensor(b + "post_ffw_norm_1", hidden),
        normTensor(b + "post_ffw_norm_2", hidden),
      );
    }
    if (ple) {
      t.push(tensor(b + "inp_gate", [hidden, ple], "other"), tensor(b + "proj", [ple, hidden], "other"), normTensor(b + "post_norm", hidden));
    }
    t.push(normTensor(b + "layer_output_scale", 1));
    let cache: CacheSpec;
    let kind: string;
    if (shared) {
      cache = { kind: "none" };
      kind = "kv-shared";
    } else if (sliding) {
      cache = slidingWindow(kv, hd, window);
      kind = "sliding";
    } else {
      cache = fullAttention(kv, hd);
      kind = "attention";
    }
    // The dense MLP runs for every token beside the routed experts: model cards and llama.cpp call it the shared expert.
    layers.push(layer(i, kind, cache, t, moe ? { experts, activeExperts: topK, sharedExperts: 1 } : undefined));
  }
  const globals = globalTensors({ vocab, hidden, tied });
  if (ple) {
    globals.push(
      tensor("per_layer_token_embd", [nLayers * ple, plVocab], "embedding"),
      tensor("per_layer_model_proj", [hidden, nLayers * ple], "other"),
      normTensor("per_layer_proj_norm", ple),
    );
  }
  if (nShared > 0) notes.push(`gemma4: the last ${nShared} layers reuse the KV of earlier layers and keep no cache (num_kv_shared_layers)`);
  return finishModel({
    id,
    modelType,
    family: "gemma4",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 131072),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals,
    ...(vision ? { vision: vision(hidden) } : {}),
    notes,
  });
}

/**
 * Gemma 4 vision tower + embedder (transformers modeling_gemma4.py): Gemma4VisionPatchEmbedder input_proj
 * (3·patch² → h, no bias) and position_embedding_table (2 × position_embedding_size × h); per Gemma4VisionEncoderLayer
 * four RMSNorms (h), q/k/v/o projections without bias (heads × head_dim), q_norm / k_norm (head_dim; v_norm has no
 * weight), a GeGLU MLP (gate/up/down, no bias); the pooler has no weights; std_bias / std_scale buffers (h each)
 * when `standardize`; Gemma4MultimodalEmbedder embedding_projection (h → text hidden, no bias; its norm has no weight).
 * vLLM gemma4_mm.py loads the same HF module (AutoModel.from_config) unquantized unless both widths divide by 64.
 * Defaults are Gemma4VisionConfig's. Google's "~550M" vision figure matches this count without the position table.
 */
/**
 * vLLM model_executor/models/gemma4_mm.py: a video item is at most _VIDEO_MAX_FRAMES (32) frames of
 * _VIDEO_MAX_SOFT_TOKENS (70) soft tokens plus 2 + 6 framing tokens each, the largest item of any modality.
 */
const GEMMA4_VIDEO_ITEM_TOKENS = 32 * (70 + 2 + 6);

export function gemma4Vision(config: HfConfig, id: string, textHidden: number): VisionSpec {
  const v = config.vision_config;
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InputError(`${id}: "vision_config" must be an object`);
  const r = new ConfigReader(v as HfConfig, `${id} vision_config`);
  const h = r.optInt("hidden_size", 768);
  const inter = r.optInt("intermediate_size", 3072);
  const layers = r.optInt("num_hidden_layers", 16);
  const heads = r.optInt("num_attention_heads", 12);
  const kvHeads = r.optInt("num_key_value_heads", 12);
  const hd = r.optInt("head_dim", 64);
  const patch = r.optInt("patch_size", 16);
  const positions = r.optInt("position_embedding_size", 10240);
  const standardize = r.optBool("standardize", false);
  const embedder = 3 * patch * patch * h + 2 * positions * h;
  const perLayer = 4 * h + h * heads * hd + 2 * h * kvHeads * hd + heads * hd * h + 2 * hd + 3 * h * inter;
  const tower = embedder + layers * perLayer + (standardize ? 2 * h : 0);
  const projector = h * textHidden;
  // use_bidirectional_attention "vision": attention is bidirectional within an image or video (prefix-LM).
  const text = config.text_config as HfConfig | undefined;
  const prefixLm = text?.use_bidirectional_attention === "vision";
  return {
    params: tower + projector,
    basis: `Gemma 4 vision tower ${layers}×${h} (patch ${patch}, ${positions}-entry 2D position table) = ${tower} + embed_vision ${projector} (transformers gemma4 modeling)`,
    ...(prefixLm ? { prefixLmItemTokens: GEMMA4_VIDEO_ITEM_TOKENS } : {}),
  };
}

export const gemma4Family: ArchitectureFamily = {
  name: "gemma4",
  modelTypes: ["gemma4", "gemma4_text"],
  gguf: "gemma4",
  layers: GEMMA4_LAYERS,
  build: (c, id) => {
    if (c.model_type === "gemma4_text") return buildGemma4Text(c, id, "gemma4_text");
    const text = { model_type: "gemma4_text", ...textConfigOf(c, id) };
    const notes: string[] = [];
    if (c.audio_config !== undefined && c.audio_config !== null) {
      notes.push("gemma4: the audio tower (audio_config) is not counted in the weights");
    }
    // modelType stays the checkpoint's "gemma4" (GGUF general.architecture; the catalog checks it against config.json).
    return buildGemma4Text(text, id, "gemma4", c.vision_config ? (hidden) => gemma4Vision(c, id, hidden) : undefined, notes);
  },
};
