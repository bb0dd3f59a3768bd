// Falcon (model_type "falcon", older "RefinedWebModel"/"RefinedWeb"): fused query_key_value, MQA on 7B,
// GQA with two parallel LayerNorms on 40B/180B (new_decoder_architecture), plain GELU MLP (no gate).
// Layout: transformers models/falcon/modeling_falcon.py (FalconAttention: num_kv_heads = config.num_kv_heads
// if new_decoder_architecture or not multi_query else 1; FalconDecoderLayer norms; FalconMLP dense_h_to_4h/4h_to_h).
// GGUF names: llama.cpp LLM_ARCH_FALCON (attn_norm, attn_norm_2, attn_qkv, attn_output, ffn_up, ffn_down).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, dtypeOf, finishModel, globalTensors, layer, normTensor, tensor } from "./common.js";
import { fullAttention } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import type { LayerSpec, ModelSpec, TensorSpec } from "../types.js";

export function buildFalcon(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("hidden_size", "n_embed");
  const nLayers = r.int("num_hidden_layers", "n_layer");
  const nHeads = r.int("num_attention_heads", "n_head");
  const vocab = r.int("vocab_size");
  r.done();
  // Old remote-code checkpoints: "RefinedWeb" (40B) is the new decoder architecture (ln_attn/ln_mlp, n_head_kv),
  // "RefinedWebModel" (7B) the MQA one (tiiuae/falcon-40b and falcon-7b modelling_RW.py).
  const newArch = r.optBool("new_decoder_architecture", config.model_type === "RefinedWeb");
  const multiQuery = r.optBool("multi_query", true);
  const parallel = r.optBool("parallel_attn", true);
  const bias = r.optBool("bias", false);
  const headDim = hidden / nHeads;
  const kvConfigured = r.optInt("num_kv_heads") ?? r.optInt("n_head_kv") ?? nHeads;
  const nKvHeads = newArch || !multiQuery ? kvConfigured : 1;
  const ffn = r.optInt("ffn_hidden_size") ?? 4 * hidden;
  // FalconDecoderLayer: ln_attn + ln_mlp when the new architecture runs them in parallel (num_ln_in_parallel_attn 2).
  const twoNorms = newArch && r.optInt("num_ln_in_parallel_attn", 2) === 2;
  // Checkpoints also store lm_head.weight (so model pages count 7.22B for falcon-7b), but transformers
  // (FalconForCausalLM._tied_weights_keys) and vLLM (models/falcon.py) tie it to word_embeddings when loading.
  const tied = r.optBool("tie_word_embeddings", true);
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const b = `blk.${i}.`;
    const t: TensorSpec[] = [normTensor(b + "attn_norm", hidden), normTensor(b + "attn_norm.bias", hidden)];
    if (twoNorms) t.push(normTensor(b + "attn_norm_2", hidden), normTensor(b + "attn_norm_2.bias", hidden));
    else if (!parallel) t.push(normTensor(b + "ffn_norm", hidden), normTensor(b + "ffn_norm.bias", hidden));
    const qkv = (nHeads + 2 * nKvHeads) * headDim;
    t.push(tensor(b + "attn_qkv", [hidden, qkv], "attention"), tensor(b + "attn_output", [hidden, hidden], "attention"));
    if (bias) t.push(normTensor(b + "attn_qkv.bias", qkv), normTensor(b + "attn_output.bias", hidden));
    t.push(tensor(b + "ffn_up", [hidden, ffn], "ffn"), tensor(b + "ffn_down", [ffn, hidden], "ffn"));
    if (bias) t.push(normTensor(b + "ffn_up.bias", ffn), normTensor(b + "ffn_down.bias", hidden));
    layers.push(layer(i, "attention", fullAttention(nKvHeads, headDim), t));
  }
  return finishModel({
    id,
    modelType: String(config.model_type),
    family: "falcon",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 2048),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals: globalTensors({ vocab, hidden, tied, normBias: true }),
  });
}

export const falconFamily: ArchitectureFamily = { name: "falcon", modelTypes: ["falcon", "RefinedWebModel", "RefinedWeb"], build: buildFalcon };
