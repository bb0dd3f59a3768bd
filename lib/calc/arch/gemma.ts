// Gemma 1/2/3 decoders (GeGLU MLP, head_dim 256 by default, tied embeddings; the sqrt(hidden) embedding
// scale has no weights). Layouts: transformers models/gemma/modeling_gemma.py, gemma2/modeling_gemma2.py
// (pre/post attention and feed-forward norms), gemma3/modeling_gemma3.py (+ per-head q/k RMSNorm, SigLIP tower).
// GGUF names as llama.cpp src/llama-model.cpp LLM_ARCH_GEMMA/GEMMA2/GEMMA3 (post_attention_norm, post_ffw_norm).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, attentionTensors, dtypeOf, finishModel, gatedFfnTensors, globalTensors, layer, normTensor } from "./common.js";
import { fullAttention, slidingWindow } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import { layerTypes, textConfigOf, withDefaults } from "./patterns.js";
import { isSwaLayer } from "./layer-pattern.js";
import type { LayerPattern } from "./layer-pattern.js";
import type { AttentionType } from "./patterns.js";
import { siglipGemma3Vision } from "./vision.js";
import type { LayerSpec, ModelSpec, TensorSpec, VisionSpec } from "../types.js";

// Config class defaults for fields a checkpoint may omit (transformers configuration_gemma*.py __init__).
const GEMMA_DEFAULTS: HfConfig = { vocab_size: 256000, hidden_size: 3072, intermediate_size: 24576, num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 16, head_dim: 256, max_position_embeddings: 8192, tie_word_embeddings: true };
const GEMMA2_DEFAULTS: HfConfig = { vocab_size: 256000, hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: 26, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256, max_position_embeddings: 8192, sliding_window: 4096, tie_word_embeddings: true };
const GEMMA3_TEXT_DEFAULTS: HfConfig = { vocab_size: 262208, hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: 26, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256, max_position_embeddings: 131072, sliding_window: 4096, sliding_window_pattern: 6, tie_word_embeddings: true };

type Generation = 1 | 2 | 3;

/** Gemma 2: even layers slide, odd ones are global (Gemma2Config layer_types default; llama.cpp gemma2 pattern 2). */
const GEMMA2_LAYERS = { swaPeriod: 2 } satisfies LayerPattern;
/** Gemma 3: 5 local : 1 global (sliding_window_pattern 6; llama.cpp gemma3 pattern 6). */
const GEMMA3_LAYERS = { swaPeriod: 6 } satisfies LayerPattern;

function buildGemma(raw: HfConfig, id: string, gen: Generation, vision?: (hidden: number) => VisionSpec): ModelSpec {
  const config = withDefaults(raw, gen === 1 ? GEMMA_DEFAULTS : gen === 2 ? GEMMA2_DEFAULTS : GEMMA3_TEXT_DEFAULTS);
  const r = new ConfigReader(config, id);
  const { hidden, nLayers, nHeads, intermediate, vocab } = r.decoderDims();
  const nKvHeads = r.int("num_key_value_heads");
  const headDim = r.int("head_dim");
  r.done();
  const tied = r.optBool("tie_word_embeddings", true);
  const window = r.optInt("sliding_window");
  let types: AttentionType[];
  if (gen === 1) types = layerTypes(config, id, nLayers, () => "full_attention");
  else if (gen === 2) types = layerTypes(config, id, nLayers, (i) => (isSwaLayer(GEMMA2_LAYERS.swaPeriod, i) ? "sliding_attention" : "full_attention"));
  else {
    // Older configs carry sliding_window_pattern, newer ones `_sliding_window_pattern`.
    const pattern = r.optInt("_sliding_window_pattern") ?? r.optInt("sliding_window_pattern", GEMMA3_LAYERS.swaPeriod);
    types = layerTypes(config, id, nLayers, (i) => ((i + 1) % pattern ? "sliding_attention" : "full_attention"));
  }
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const b = `blk.${i}.`;
    const t: TensorSpec[] = [normTensor(b + "attn_norm", hidden), ...attentionTensors(i, { hidden, nHeads, nKvHeads, headDimK: headDim, qkNorm: gen === 3 })];
    if (gen >= 2) t.push(normTensor(b + "post_attention_norm", hidden));
    t.push(normTensor(b + "ffn_norm", hidden), ...gatedFfnTensors(i, hidden, intermediate));
    if (gen >= 2) t.push(normTensor(b + "post_ffw_norm", hidden));
    const sliding = types[i] === "sliding_attention" && window !== undefined && window > 0;
    layers.push(layer(i, sliding ? "sliding" : "attention", sliding ? slidingWindow(nKvHeads, headDim, window) : fullAttention(nKvHeads, headDim), t));
  }
  return finishModel({
    id,
    modelType: String(config.model_type ?? "gemma"),
    family: gen === 1 ? "gemma" : gen === 2 ? "gemma2" : "gemma3",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 8192),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals: globalTensors({ vocab, hidden, tied }),
    ...(vision ? { vision: vision(hidden) } : {}),
  });
}

export const gemmaFamily: ArchitectureFamily = { name: "gemma", modelTypes: ["gemma"], build: (c, id) => buildGemma(c, id, 1) };
export const gemma2Family: ArchitectureFamily = { name: "gemma2", modelTypes: ["gemma2"], layers: GEMMA2_LAYERS, build: (c, id) => buildGemma(c, id, 2) };

/** gemma3_text (Gemma3ForCausalLM, e.g. gemma-3-1b) and gemma3 (Gemma3ForConditionalGeneration: text_config + SigLIP vision_config). */
export const gemma3Family: ArchitectureFamily = {
  name: "gemma3",
  modelTypes: ["gemma3", "gemma3_text"],
  gguf: "gemma3",
  layers: GEMMA3_LAYERS,
  build: (c, id) => {
    if (c.model_type === "gemma3_text") return buildGemma(c, id, 3);
    const text = { model_type: "gemma3_text", ...textConfigOf(c, id) };
    return buildGemma(text, id, 3, c.vision_config ? (hidden) => siglipGemma3Vision(c, id, hidden) : undefined);
  },
};
