// gpt-oss (model_type "gpt_oss"): GQA attention with biases and learned per-head attention sinks, sliding
// window (128) on alternating layers (layer_types), and a biased MoE in every layer.
// Layout: transformers models/gpt_oss/modeling_gpt_oss.py (GptOssAttention.sinks, GptOssTopKRouter weight+bias,
// GptOssExperts gate_up_proj/down_proj with biases); GGUF names from llama.cpp src/llama-model.cpp LLM_ARCH_OPENAI_MOE.
// The checkpoint ships its experts in MXFP4 (quantization_config.quant_method = "mxfp4"); attention, router,
// embeddings and lm_head stay bf16 (modules_to_not_convert).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, attentionTensors, dtypeOf, finishModel, globalTensors, layer, moeTensors, normTensor, tensor } from "./common.js";
import { fullAttention, slidingWindow } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import { InputError } from "../types.js";
import type { LayerSpec, ModelSpec } from "../types.js";
import { isSwaLayer } from "./layer-pattern.js";
import type { LayerPattern } from "./layer-pattern.js";

/** Sliding on even layers, full on odd ones (GptOssConfig layer_types default; llama.cpp gpt-oss pattern 2). */
const GPT_OSS_LAYERS = { swaPeriod: 2 } satisfies LayerPattern;

export function buildGptOss(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("hidden_size");
  const nLayers = r.int("num_hidden_layers");
  const nHeads = r.int("num_attention_heads");
  const nKvHeads = r.int("num_key_value_heads");
  const headDim = r.int("head_dim");
  const expertInter = r.int("intermediate_size");
  const vocab = r.int("vocab_size");
  const experts = r.int("num_local_experts");
  const active = r.int("num_experts_per_tok", "experts_per_token");
  r.done();
  const window = r.optInt("sliding_window", 0);
  const tied = r.optBool("tie_word_embeddings", false);
  const bias = r.optBool("attention_bias", true);
  const types = r.optArray<string>("layer_types") ?? Array.from({ length: nLayers }, (_, i) => (isSwaLayer(GPT_OSS_LAYERS.swaPeriod, i) ? "sliding_attention" : "full_attention"));
  if (types.length !== nLayers) throw new InputError(`${id}: layer_types has ${types.length} entries but num_hidden_layers is ${nLayers}`);
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const b = `blk.${i}.`;
    const sliding = types[i] === "sliding_attention" && window > 0;
    const tensors = [
      normTensor(b + "attn_norm", hidden),
      ...attentionTensors(i, { hidden, nHeads, nKvHeads, headDimK: headDim, qkvBias: bias, oBias: bias }),
      // One learned sink logit per head (GptOssAttention.sinks): a parameter, not cached tokens.
      normTensor(b + "attn_sinks", nHeads),
      normTensor(b + "post_attention_norm", hidden),
      ...moeTensors(i, hidden, expertInter, experts),
      tensor(b + "ffn_gate_inp.bias", [experts], "router"),
      // Per-expert biases: role "expert" so only the routed share counts as active (the card's 5.13B
      // for 120b needs it); they stay bf16 in the MXFP4 checkpoint (only *_blocks/*_scales are 4-bit).
      tensor(b + "ffn_gate_exps.bias", [expertInter, experts], "expert"),
      tensor(b + "ffn_up_exps.bias", [expertInter, experts], "expert"),
      tensor(b + "ffn_down_exps.bias", [hidden, experts], "expert"),
    ];
    const cache = sliding ? slidingWindow(nKvHeads, headDim, window) : fullAttention(nKvHeads, headDim);
    layers.push(layer(i, sliding ? "sliding" : "attention", cache, tensors, { experts, activeExperts: active, sharedExperts: 0 }));
  }
  return finishModel({
    id,
    modelType: "gpt_oss",
    family: "gpt-oss",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 131072),
    tiedEmbeddings: tied,
    // gpt-oss configs carry no torch_dtype: the non-expert weights are bf16.
    nativeDtype: dtypeOf(config),
    layers,
    globals: globalTensors({ vocab, hidden, tied }),
  });
}

export const gptOssFamily: ArchitectureFamily = { name: "gpt-oss", modelTypes: ["gpt_oss"], gguf: "gpt-oss", layers: GPT_OSS_LAYERS, build: buildGptOss };
