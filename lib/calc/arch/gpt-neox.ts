// GPT-NeoX (model_type "gpt_neox": Pythia, GPT-NeoX-20B, Dolly v2, RedPajama-INCITE). Non-gated GELU MLP, biases on
// every linear, two LayerNorms (weight + bias) per block, untied embed_out without bias.
// Layout: transformers models/gpt_neox/modeling_gpt_neox.py — GPTNeoXAttention.__init__ (query_key_value
// Linear(hidden, 3 × hidden) and dense Linear(hidden, hidden), both bias=config.attention_bias, default True),
// GPTNeoXMLP.__init__ (dense_h_to_4h / dense_4h_to_h with bias), GPTNeoXLayer.__init__ (input_layernorm,
// post_attention_layernorm), GPTNeoXModel.__init__ (embed_in, final_layer_norm), GPTNeoXForCausalLM.__init__
// (embed_out = Linear(hidden, vocab, bias=False); GPTNeoXConfig.tie_word_embeddings defaults to False).
// rotary_pct only picks how many of each head's dims rotate (rotary_ndims): K/V are cached head_dim wide.
// use_parallel_residual changes the dataflow of GPTNeoXLayer.forward, not a tensor.
// GGUF names: llama.cpp LLM_ARCH_GPTNEOX (src/llama-model.cpp load_tensors: attn_norm(+bias), attn_qkv(+bias),
// attn_output(+bias), ffn_norm(+bias) for post_attention_layernorm, ffn_up/ffn_down(+bias), output_norm(+bias), output).
import type { ArchitectureFamily } from "./registry.js";
import { biasedFusedBlockTensors, ConfigReader, dtypeOf, finishModel, globalTensors, layer } from "./common.js";
import { fullAttention } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import type { LayerSpec, ModelSpec } from "../types.js";

export function buildGptNeox(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const { hidden, nLayers, nHeads, intermediate, vocab } = r.decoderDims();
  r.done();
  const headDim = hidden / nHeads;
  const bias = r.optBool("attention_bias", true);
  const tied = r.optBool("tie_word_embeddings", false);
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) layers.push(layer(i, "attention", fullAttention(nHeads, headDim), biasedFusedBlockTensors(i, hidden, 3 * hidden, intermediate, bias)));
  return finishModel({
    id,
    modelType: String(config.model_type),
    family: "gpt_neox",
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

export const gptNeoxFamily: ArchitectureFamily = { name: "gpt_neox", modelTypes: ["gpt_neox"], build: buildGptNeox };
