// Phi-2 (model_type "phi") and Phi-3 / Phi-3.5 / Phi-4 (model_type "phi3").
// Phi-2: transformers models/phi/modeling_phi.py PhiDecoderLayer — one LayerNorm (weight+bias) feeding attention
// and MLP in parallel, q/k/v/dense with bias, fc1/fc2 (GELU, no gate) with bias, final_layernorm with bias,
// untied lm_head with bias. partial_rotary_factor only changes which dims rotate: K/V stay head_dim wide.
// Phi-3: models/phi3/modeling_phi3.py — Llama layout with fused qkv_proj and gate_up_proj (same parameter count);
// llama.cpp LLM_ARCH_PHI3 keeps them fused as attn_qkv and ffn_up (2 × intermediate).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, dtypeOf, finishModel, globalTensors, layer, normTensor, tensor } from "./common.js";
import { fullAttention, slidingWindow } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import type { LayerSpec, ModelSpec, TensorSpec } from "../types.js";

export function buildPhi2(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const { hidden, nLayers, nHeads, intermediate, vocab } = r.decoderDims();
  r.done();
  const nKvHeads = r.optInt("num_key_value_heads", nHeads);
  const headDim = hidden / nHeads;
  const tied = r.optBool("tie_word_embeddings", false);
  // PhiAttention.qk_layernorm: LayerNorm(head_dim) with bias on q and k.
  const qkNorm = r.optBool("qk_layernorm", false);
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const b = `blk.${i}.`;
    const t: TensorSpec[] = [
      normTensor(b + "attn_norm", hidden),
      normTensor(b + "attn_norm.bias", hidden),
      tensor(b + "attn_q", [hidden, nHeads * headDim], "attention"),
      normTensor(b + "attn_q.bias", nHeads * headDim),
      tensor(b + "attn_k", [hidden, nKvHeads * headDim], "attention"),
      normTensor(b + "attn_k.bias", nKvHeads * headDim),
      tensor(b + "attn_v", [hidden, nKvHeads * headDim], "attention"),
      normTensor(b + "attn_v.bias", nKvHeads * headDim),
      tensor(b + "attn_output", [nHeads * headDim, hidden], "attention"),
      normTensor(b + "attn_output.bias", hidden),
      tensor(b + "ffn_up", [hidden, intermediate], "ffn"),
      normTensor(b + "ffn_up.bias", intermediate),
      tensor(b + "ffn_down", [intermediate, hidden], "ffn"),
      normTensor(b + "ffn_down.bias", hidden),
    ];
    if (qkNorm) {
      for (const n of ["attn_q_norm", "attn_q_norm.bias", "attn_k_norm", "attn_k_norm.bias"]) t.push(normTensor(b + n, headDim));
    }
    layers.push(layer(i, "attention", fullAttention(nKvHeads, headDim), t));
  }
  const globals = globalTensors({ vocab, hidden, tied, normBias: true });
  // PhiForCausalLM.lm_head = nn.Linear(hidden, vocab, bias=True).
  if (!tied) globals.push(normTensor("output.bias", vocab));
  return finishModel({
    id,
    modelType: String(config.model_type),
    family: "phi",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 2048),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals,
  });
}

export function buildPhi3(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const { hidden, nLayers, nHeads, intermediate, vocab } = r.decoderDims();
  r.done();
  const nKvHeads = r.optInt("num_key_value_heads", nHeads);
  const headDim = r.optInt("head_dim") ?? hidden / nHeads;
  const tied = r.optBool("tie_word_embeddings", false);
  // Phi3Attention passes config.sliding_window to every layer (Phi-3-mini-4k: 2047; Phi-4: null = full).
  const window = r.optInt("sliding_window");
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const b = `blk.${i}.`;
    const t: TensorSpec[] = [
      normTensor(b + "attn_norm", hidden),
      tensor(b + "attn_qkv", [hidden, (nHeads + 2 * nKvHeads) * headDim], "attention"),
      tensor(b + "attn_output", [nHeads * headDim, hidden], "attention"),
      normTensor(b + "ffn_norm", hidden),
      tensor(b + "ffn_up", [hidden, 2 * intermediate], "ffn"),
      tensor(b + "ffn_down", [intermediate, hidden], "ffn"),
    ];
    const sliding = window !== undefined && window > 0;
    layers.push(layer(i, sliding ? "sliding" : "attention", sliding ? slidingWindow(nKvHeads, headDim, window) : fullAttention(nKvHeads, headDim), t));
  }
  return finishModel({
    id,
    modelType: String(config.model_type),
    family: "phi3",
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

export const phiFamily: ArchitectureFamily = { name: "phi", modelTypes: ["phi"], build: buildPhi2 };
export const phi3Family: ArchitectureFamily = { name: "phi3", modelTypes: ["phi3"], build: buildPhi3 };
