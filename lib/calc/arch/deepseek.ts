// DeepSeek-V2/V2-Lite/V3/R1 and Kimi K2 (model_type deepseek_v2, deepseek_v3, kimi_k2): multi-head latent
// attention (MLA) + DeepSeekMoE (routed + shared experts, leading dense layers).
// Layout: transformers models/deepseek_v3/modeling_deepseek_v3.py (DeepseekV3Attention, DeepseekV3MoE,
// DeepseekV3DecoderLayer) and the V2 remote code; GGUF names from llama.cpp src/llama-model.cpp LLM_ARCH_DEEPSEEK2
// (attn_q_a/attn_q_a_norm/attn_q_b or attn_q, attn_kv_a_mqa, attn_kv_a_norm, attn_k_b/attn_v_b, exp_probs_b, *_shexp).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, dtypeOf, finishModel, gatedFfnTensors, globalTensors, layer, moeTensors, normTensor, tensor } from "./common.js";
import type { HfConfig } from "./common.js";
import { latentAttention } from "../cache/index.js";
import type { CacheSpec, LayerSpec, ModelSpec, TensorSpec } from "../types.js";

export interface MlaDims {
  hidden: number;
  nHeads: number;
  /** null: no query compression (DeepSeek-V2-Lite), q is projected directly. */
  qLoraRank: number | null;
  kvLoraRank: number;
  ropeDim: number;
  nopeDim: number;
  vHeadDim: number;
}

/** MLA projections of one layer (DeepseekV3Attention: q_a_proj/q_a_layernorm/q_b_proj or q_proj, kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj). */
export function mlaTensors(i: number, d: MlaDims): TensorSpec[] {
  const b = `blk.${i}.`;
  const qHead = d.nopeDim + d.ropeDim;
  const t: TensorSpec[] = [];
  if (d.qLoraRank) {
    t.push(
      tensor(b + "attn_q_a", [d.hidden, d.qLoraRank], "attention"),
      normTensor(b + "attn_q_a_norm", d.qLoraRank),
      tensor(b + "attn_q_b", [d.qLoraRank, d.nHeads * qHead], "attention"),
    );
  } else {
    t.push(tensor(b + "attn_q", [d.hidden, d.nHeads * qHead], "attention"));
  }
  t.push(
    tensor(b + "attn_kv_a_mqa", [d.hidden, d.kvLoraRank + d.ropeDim], "attention"),
    normTensor(b + "attn_kv_a_norm", d.kvLoraRank),
    // kv_b_proj split per head into K and V up-projections, as llama.cpp's converter stores it (same element count).
    tensor(b + "attn_k_b", [d.nopeDim, d.kvLoraRank, d.nHeads], "attention"),
    tensor(b + "attn_v_b", [d.kvLoraRank, d.vHeadDim, d.nHeads], "attention"),
    tensor(b + "attn_output", [d.nHeads * d.vHeadDim, d.hidden], "attention"),
  );
  return t;
}

export function mlaCache(d: MlaDims): CacheSpec {
  return latentAttention(d.nHeads, d.kvLoraRank, d.ropeDim, d.nopeDim, d.vHeadDim);
}

/** DeepseekV3DecoderLayer: MoE when n_routed_experts and layer_idx >= first_k_dense_replace and layer_idx % moe_layer_freq == 0. */
export function deepseekMoeLayer(i: number, routed: number, firstDense: number, freq: number): boolean {
  return routed > 0 && i >= firstDense && i % freq === 0;
}

export function buildDeepseek(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const { hidden, nLayers, nHeads, intermediate, vocab } = r.decoderDims();
  const kvLoraRank = r.int("kv_lora_rank");
  const ropeDim = r.int("qk_rope_head_dim");
  const nopeDim = r.int("qk_nope_head_dim");
  const vHeadDim = r.int("v_head_dim");
  const routed = r.int("n_routed_experts");
  const active = r.int("num_experts_per_tok");
  const moeInter = r.int("moe_intermediate_size");
  r.done();
  const notes: string[] = [];
  // "q_lora_rank": null means no query compression; an absent key takes the transformers default 1536
  // (DeepseekV3Config / DeepseekV2Config q_lora_rank=1536).
  const qLoraRank = config.q_lora_rank === null ? null : r.optInt("q_lora_rank", 1536);
  if (config.q_lora_rank === undefined) notes.push("q_lora_rank absent from config.json: transformers default 1536 assumed");
  const shared = r.optInt("n_shared_experts", 0);
  const firstDense = r.optInt("first_k_dense_replace", 0);
  const freq = r.optInt("moe_layer_freq", 1);
  const tied = r.optBool("tie_word_embeddings", false);
  // noaux_tc routing carries a per-expert score bias (DeepseekV3TopkRouter.e_score_correction_bias; llama.cpp exp_probs_b).
  const scoreBias = config.topk_method === "noaux_tc";
  const dims: MlaDims = { hidden, nHeads, qLoraRank, kvLoraRank, ropeDim, nopeDim, vHeadDim };
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const sparse = deepseekMoeLayer(i, routed, firstDense, freq);
    const t: TensorSpec[] = [normTensor(`blk.${i}.attn_norm`, hidden), ...mlaTensors(i, dims), normTensor(`blk.${i}.ffn_norm`, hidden)];
    if (sparse) {
      t.push(...moeTensors(i, hidden, moeInter, routed));
      if (scoreBias) t.push(normTensor(`blk.${i}.exp_probs_b`, routed));
      if (shared > 0) t.push(...gatedFfnTensors(i, hidden, moeInter * shared, "shared_expert", "_shexp"));
    } else {
      t.push(...gatedFfnTensors(i, hidden, intermediate));
    }
    layers.push(layer(i, "mla", mlaCache(dims), t, sparse ? { experts: routed, activeExperts: active, sharedExperts: shared } : undefined));
  }
  // Multi-token prediction modules are extra weights only speculative decoding loads (vLLM loads them for
  // --speculative-config method=deepseek_mtp; llama.cpp skips them): not part of the main model planned here.
  const mtp = r.optInt("num_nextn_predict_layers", 0);
  if (mtp > 0) notes.push(`num_nextn_predict_layers=${mtp}: the multi-token-prediction module is not counted (only loaded for speculative decoding)`);
  return finishModel({
    id,
    modelType: String(config.model_type),
    family: "deepseek",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 4096),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals: globalTensors({ vocab, hidden, tied }),
    notes,
  });
}

export const deepseekFamily: ArchitectureFamily = { name: "deepseek", modelTypes: ["deepseek_v2", "deepseek_v3", "kimi_k2"], build: buildDeepseek };
