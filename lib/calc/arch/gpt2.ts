// GPT-2 (model_type "gpt2") and OPT (model_type "opt"): learned absolute positions, pre-LayerNorm blocks with
// biases, non-gated MLP, lm_head tied to the token table.
// GPT-2 layout: transformers models/gpt2/modeling_gpt2.py — GPT2Attention.__init__ (c_attn Conv1D(3 × embed, embed),
// c_proj Conv1D(embed, embed), both with bias), GPT2MLP (c_fc / c_proj with bias; inner_dim = n_inner or 4 × hidden
// in GPT2Block.__init__), GPT2Block (ln_1, ln_2 with bias), GPT2Model.__init__ (wte, wpe = Embedding(n_positions,
// embed), ln_f), GPT2LMHeadModel (lm_head Linear(n_embd, vocab, bias=False), tied to wte). Old checkpoints also store
// the attn.bias causal-mask buffers; they are not parameters.
// GGUF names: llama.cpp LLM_ARCH_GPT2 (src/llama-model.cpp load_tensors: token_embd, position_embd, output_norm(+bias),
// attn_norm/attn_qkv/attn_output/ffn_norm/ffn_up/ffn_down each with .bias).
// OPT layout: transformers models/opt/modeling_opt.py — OPTLearnedPositionalEmbedding.__init__ (offset 2:
// max_position_embeddings + 2 rows), OPTAttention.__init__ (separate q/k/v/out_proj, bias=config.enable_bias),
// OPTDecoderLayer.__init__ (self_attn_layer_norm, fc1/fc2 of ffn_dim, final_layer_norm; LayerNorms carry weight + bias
// when layer_norm_elementwise_affine), OPTDecoder.__init__ (embed_tokens Embedding(vocab, word_embed_proj_dim);
// project_in / project_out Linear(bias=False) only when word_embed_proj_dim != hidden_size; final_layer_norm only
// when do_layer_norm_before and not _remove_final_layer_norm), OPTForCausalLM (lm_head Linear(word_embed_proj_dim,
// vocab, bias=False), tied to embed_tokens). llama.cpp has no OPT architecture: tensors use the same GGUF-style
// names as the llama family (attn_q/attn_k/attn_v), with project_in/project_out as globals.
import type { ArchitectureFamily } from "./registry.js";
import { biasedFusedBlockTensors, ConfigReader, dtypeOf, finishModel, globalTensors, layer, normTensor, tensor } from "./common.js";
import { fullAttention } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import type { LayerSpec, ModelSpec, TensorSpec } from "../types.js";

export function buildGpt2(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("n_embd", "hidden_size");
  const nLayers = r.int("n_layer", "num_hidden_layers");
  const nHeads = r.int("n_head", "num_attention_heads");
  const vocab = r.int("vocab_size");
  r.done();
  const positions = r.optInt("n_positions") ?? r.optInt("max_position_embeddings") ?? r.optInt("n_ctx", 1024);
  const inner = r.optInt("n_inner") ?? 4 * hidden;
  const headDim = hidden / nHeads;
  const tied = r.optBool("tie_word_embeddings", true);
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) layers.push(layer(i, "attention", fullAttention(nHeads, headDim), biasedFusedBlockTensors(i, hidden, 3 * hidden, inner)));
  const globals = globalTensors({ vocab, hidden, tied, normBias: true });
  globals.splice(1, 0, tensor("position_embd", [hidden, positions], "embedding"));
  return finishModel({
    id,
    modelType: String(config.model_type),
    family: "gpt2",
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

/** OPTLearnedPositionalEmbedding: rows = max_position_embeddings + this offset. */
export const OPT_POSITION_OFFSET = 2;

export function buildOpt(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("hidden_size");
  const nLayers = r.int("num_hidden_layers");
  const nHeads = r.int("num_attention_heads");
  const ffn = r.int("ffn_dim");
  const vocab = r.int("vocab_size");
  r.done();
  const maxPos = r.optInt("max_position_embeddings", 2048);
  const proj = r.optInt("word_embed_proj_dim") ?? hidden;
  const bias = r.optBool("enable_bias", true);
  const affine = r.optBool("layer_norm_elementwise_affine", true);
  const normBefore = r.optBool("do_layer_norm_before", true);
  const finalNorm = normBefore && !r.optBool("_remove_final_layer_norm", false);
  const tied = r.optBool("tie_word_embeddings", true);
  const headDim = hidden / nHeads;
  const norm = (name: string): TensorSpec[] => (affine ? [normTensor(name, hidden), normTensor(name + ".bias", hidden)] : []);
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const b = `blk.${i}.`;
    const t: TensorSpec[] = [...norm(b + "attn_norm")];
    for (const n of ["attn_q", "attn_k", "attn_v", "attn_output"]) {
      t.push(tensor(b + n, [hidden, hidden], "attention"));
      if (bias) t.push(normTensor(`${b}${n}.bias`, hidden));
    }
    t.push(...norm(b + "ffn_norm"), tensor(b + "ffn_up", [hidden, ffn], "ffn"), tensor(b + "ffn_down", [ffn, hidden], "ffn"));
    if (bias) t.push(normTensor(b + "ffn_up.bias", ffn), normTensor(b + "ffn_down.bias", hidden));
    layers.push(layer(i, "attention", fullAttention(nHeads, headDim), t));
  }
  const globals: TensorSpec[] = [
    tensor("token_embd", [proj, vocab], "embedding"),
    tensor("position_embd", [hidden, maxPos + OPT_POSITION_OFFSET], "embedding"),
  ];
  if (proj !== hidden) globals.push(tensor("project_in", [proj, hidden], "other"), tensor("project_out", [hidden, proj], "other"));
  if (finalNorm) globals.push(...norm("output_norm"));
  if (!tied) globals.push(tensor("output", [proj, vocab], "lm_head"));
  return finishModel({
    id,
    modelType: String(config.model_type),
    family: "opt",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: maxPos,
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals,
  });
}

export const gpt2Family: ArchitectureFamily = { name: "gpt2", modelTypes: ["gpt2"], build: buildGpt2 };
export const optFamily: ArchitectureFamily = { name: "opt", modelTypes: ["opt"], build: buildOpt };
