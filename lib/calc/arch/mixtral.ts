// Mixtral (model_type "mixtral"): Mistral attention + a sparse MoE block in every layer, no shared expert.
// Layout: transformers models/mixtral/modeling_mixtral.py (MixtralSparseMoeBlock: gate + num_local_experts
// experts w1/w2/w3); llama.cpp names them ffn_gate_inp and ffn_{gate,up,down}_exps (src/llama-model.cpp, LLM_ARCH_LLAMA).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, attentionTensors, dtypeOf, finishModel, globalTensors, layer, moeTensors, normTensor } from "./common.js";
import { fullAttention, slidingWindow } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import type { LayerSpec, ModelSpec } from "../types.js";

export function buildMixtral(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const { hidden, nLayers, nHeads, intermediate, vocab } = r.decoderDims();
  const experts = r.int("num_local_experts");
  const active = r.int("num_experts_per_tok");
  r.done();
  const nKvHeads = r.optInt("num_key_value_heads", nHeads);
  const headDim = r.optInt("head_dim") ?? hidden / nHeads;
  const tied = r.optBool("tie_word_embeddings", false);
  // Mixtral v0.1 configs say "sliding_window": null (full attention); a number turns SWA on (MixtralAttention).
  const window = r.optInt("sliding_window");
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const tensors = [
      normTensor(`blk.${i}.attn_norm`, hidden),
      ...attentionTensors(i, { hidden, nHeads, nKvHeads, headDimK: headDim }),
      normTensor(`blk.${i}.ffn_norm`, hidden),
      ...moeTensors(i, hidden, intermediate, experts),
    ];
    const cache = window ? slidingWindow(nKvHeads, headDim, window) : fullAttention(nKvHeads, headDim);
    layers.push(layer(i, window ? "sliding" : "attention", cache, tensors, { experts, activeExperts: active, sharedExperts: 0 }));
  }
  return finishModel({
    id,
    modelType: String(config.model_type),
    family: "mixtral",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 32768),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals: globalTensors({ vocab, hidden, tied }),
  });
}

export const mixtralFamily: ArchitectureFamily = { name: "mixtral", modelTypes: ["mixtral"], build: buildMixtral };
