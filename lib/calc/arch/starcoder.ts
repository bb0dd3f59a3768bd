// GPTBigCode (model_type "gpt_bigcode": StarCoder, StarCoderBase, SantaCoder): multi-query attention with one
// shared K/V head, learned absolute positions (wpe), biases everywhere, GELU MLP of n_inner, tied lm_head.
// Layout: transformers models/gpt_bigcode/modeling_gpt_bigcode.py (GPTBigCodeAttention.c_attn = embed + 2 × head_dim
// when multi_query, GPTBigCodeMLP c_fc/c_proj, wpe = Embedding(max_position_embeddings, embed)).
// GGUF names: llama.cpp LLM_ARCH_STARCODER (position_embd, attn_qkv, ffn_up/ffn_down with .bias).
import type { ArchitectureFamily } from "./registry.js";
import { biasedFusedBlockTensors, ConfigReader, dtypeOf, finishModel, globalTensors, layer, tensor } from "./common.js";
import { fullAttention } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import type { LayerSpec, ModelSpec } from "../types.js";

export function buildGptBigCode(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("n_embd", "hidden_size");
  const nLayers = r.int("n_layer", "num_hidden_layers");
  const nHeads = r.int("n_head", "num_attention_heads");
  const vocab = r.int("vocab_size");
  r.done();
  const positions = r.optInt("n_positions") ?? r.optInt("max_position_embeddings", 2048);
  const inner = r.optInt("n_inner") ?? 4 * hidden;
  const multiQuery = r.optBool("multi_query", true);
  const headDim = hidden / nHeads;
  const nKvHeads = multiQuery ? 1 : nHeads;
  const tied = r.optBool("tie_word_embeddings", true);
  const layers: LayerSpec[] = [];
  const qkv = hidden + 2 * nKvHeads * headDim;
  for (let i = 0; i < nLayers; i++) layers.push(layer(i, "attention", fullAttention(nKvHeads, headDim), biasedFusedBlockTensors(i, hidden, qkv, inner)));
  const globals = globalTensors({ vocab, hidden, tied, normBias: true });
  globals.splice(1, 0, tensor("position_embd", [hidden, positions], "embedding"));
  return finishModel({
    id,
    modelType: String(config.model_type),
    family: "gpt_bigcode",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: positions,
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals,
  });
}

export const starcoderFamily: ArchitectureFamily = { name: "gpt_bigcode", modelTypes: ["gpt_bigcode"], build: buildGptBigCode };
