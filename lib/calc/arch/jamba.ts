// Jamba (model_type "jamba"): Mamba layers with one attention layer every attn_layer_period (at
// attn_layer_offset), and a sparse MoE instead of the MLP every expert_layer_period (at expert_layer_offset).
// Layer pattern: transformers models/jamba/configuration_jamba.py JambaConfig.layers_block_type and
// layers_num_experts; mixer: modeling_jamba.py JambaMambaMixer (a Mamba1 mixer plus dt/B/C RMSNorms; llama.cpp
// src/llama-model.cpp LLM_ARCH_JAMBA names them ssm_dt_norm, ssm_b_norm, ssm_c_norm).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, attentionTensors, dtypeOf, finishModel, gatedFfnTensors, globalTensors, layer, moeTensors, normTensor } from "./common.js";
import { fullAttention } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import { dtRankOf, mamba1Cache, mamba1Tensors } from "./mamba.js";
import type { Mamba1Dims } from "./mamba.js";
import type { LayerSpec, ModelSpec, TensorSpec } from "../types.js";

export function buildJamba(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const { hidden, nLayers, nHeads, intermediate, vocab } = r.decoderDims();
  const experts = r.int("num_experts");
  const active = r.int("num_experts_per_tok");
  r.done();
  const nKvHeads = r.optInt("num_key_value_heads", nHeads);
  const headDim = hidden / nHeads;
  // JambaConfig defaults (Jamba-v0.1) for the layer pattern.
  const attnPeriod = r.optInt("attn_layer_period", 8);
  const attnOffset = r.optInt("attn_layer_offset", 4);
  const expertPeriod = r.optInt("expert_layer_period", 2);
  const expertOffset = r.optInt("expert_layer_offset", 1);
  const tied = r.optBool("tie_word_embeddings", false);
  const d: Mamba1Dims = {
    hidden,
    dInner: r.optInt("mamba_expand", 2) * hidden,
    dState: r.optInt("mamba_d_state", 16),
    dConv: r.optInt("mamba_d_conv", 4),
    dtRank: dtRankOf(config.mamba_dt_rank, hidden, id),
    convBias: r.optBool("mamba_conv_bias", true),
    projBias: r.optBool("mamba_proj_bias", false),
  };
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const attn = i % attnPeriod === attnOffset;
    const sparse = experts > 1 && i % expertPeriod === expertOffset;
    const b = `blk.${i}.`;
    const t: TensorSpec[] = [normTensor(b + "attn_norm", hidden)];
    if (attn) t.push(...attentionTensors(i, { hidden, nHeads, nKvHeads, headDimK: headDim }));
    else t.push(...mamba1Tensors(i, d), normTensor(b + "ssm_dt_norm", d.dtRank), normTensor(b + "ssm_b_norm", d.dState), normTensor(b + "ssm_c_norm", d.dState));
    t.push(normTensor(b + "ffn_norm", hidden), ...(sparse ? moeTensors(i, hidden, intermediate, experts) : gatedFfnTensors(i, hidden, intermediate)));
    const moe = sparse ? { experts, activeExperts: active, sharedExperts: 0 } : undefined;
    layers.push(layer(i, attn ? "attention" : "mamba", attn ? fullAttention(nKvHeads, headDim) : mamba1Cache(d), t, moe));
  }
  return finishModel({
    id,
    modelType: "jamba",
    family: "jamba",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 262144),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals: globalTensors({ vocab, hidden, tied }),
  });
}

// A Jamba GGUF marks its Mamba layers by giving them no KV heads (llama.cpp recurrent_layer_arr).
export const jambaFamily: ArchitectureFamily = { name: "jamba", modelTypes: ["jamba"], layers: { recurrent: { variant: "mamba", layers: "no-kv-heads" } }, build: buildJamba };
