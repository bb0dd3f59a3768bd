// Llama-style decoders: Llama 1/2/3, CodeLlama, Mistral, Qwen2/2.5, Qwen3 (dense) and the generic path.
// Tensor layout follows transformers models/llama/modeling_llama.py (LlamaAttention, LlamaMLP).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, attentionTensors, dtypeOf, finishModel, gatedFfnTensors, globalTensors, layer, normTensor } from "./common.js";
import { fullAttention, slidingWindow } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import { layerTypes } from "./patterns.js";
import type { LayerSpec, ModelSpec } from "../types.js";

export function buildLlamaLike(config: HfConfig, id: string, family: string, opts: { qkNorm?: boolean; qkvBias?: boolean; qwenWindow?: boolean } = {}): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("hidden_size", "n_embd", "d_model");
  const nLayers = r.int("num_hidden_layers", "n_layer", "num_layers");
  const nHeads = r.int("num_attention_heads", "n_head");
  const intermediate = r.int("intermediate_size", "n_inner", "ffn_dim");
  const vocab = r.int("vocab_size");
  r.done();
  const nKvHeads = r.optInt("num_key_value_heads", nHeads);
  const headDim = r.optInt("head_dim") ?? hidden / nHeads;
  const tied = r.optBool("tie_word_embeddings", false);
  const qkvBias = opts.qkvBias ?? r.optBool("attention_bias", false);
  // Mistral: a sliding_window number makes every layer slide (MistralAttention). Qwen2/Qwen3: SWA only with
  // use_sliding_window (default false) and only on layers i >= max_window_layers (Qwen2Config/Qwen3Config layer_types).
  const qwen = opts.qwenWindow === true;
  const window = r.optBool("use_sliding_window", !qwen) ? r.optInt("sliding_window") : undefined;
  const firstSliding = qwen ? r.optInt("max_window_layers", 28) : 0; // Qwen2Config/Qwen3Config default 28
  const types = layerTypes(config, id, nLayers, (i) => (window !== undefined && window > 0 && i >= firstSliding ? "sliding_attention" : "full_attention"));
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const sliding = types[i] === "sliding_attention" && window !== undefined && window > 0;
    const tensors = [
      normTensor(`blk.${i}.attn_norm`, hidden),
      ...attentionTensors(i, { hidden, nHeads, nKvHeads, headDimK: headDim, qkvBias, qkNorm: opts.qkNorm }),
      normTensor(`blk.${i}.ffn_norm`, hidden),
      ...gatedFfnTensors(i, hidden, intermediate),
    ];
    layers.push(layer(i, sliding ? "sliding" : "attention", sliding ? slidingWindow(nKvHeads, headDim, window) : fullAttention(nKvHeads, headDim), tensors));
  }
  return finishModel({
    id,
    modelType: String(config.model_type ?? "unknown"),
    family,
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 4096),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals: globalTensors({ vocab, hidden, tied }),
  });
}

export const llamaFamily: ArchitectureFamily = {
  name: "llama",
  modelTypes: ["llama", "mistral"],
  gguf: "llama",
  build: (config, id) => buildLlamaLike(config, id, "llama"),
};

export const qwen2Family: ArchitectureFamily = {
  name: "qwen2",
  modelTypes: ["qwen2"],
  // Qwen2 always has q/k/v biases (transformers models/qwen2/modeling_qwen2.py: bias=True), not in config.
  build: (config, id) => buildLlamaLike(config, id, "qwen2", { qkvBias: true, qwenWindow: true }),
};

export const qwen3Family: ArchitectureFamily = {
  name: "qwen3",
  modelTypes: ["qwen3"],
  // Qwen3 adds per-head RMSNorm on q and k (transformers models/qwen3/modeling_qwen3.py Qwen3Attention).
  build: (config, id) => buildLlamaLike(config, id, "qwen3", { qkNorm: true, qwenWindow: true }),
};
