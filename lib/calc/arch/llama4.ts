// Llama 4 (model_type "llama4" with text_config + vision_config, or "llama4_text"): iRoPE — RoPE layers attend
// within aligned chunks of attention_chunk_size, every no_rope_layer_interval-th layer is NoPE with full attention;
// MoE layers (every interleave_moe_layer_step-th) hold routed experts plus one shared expert, the rest a dense MLP
// of intermediate_size_mlp. q/k norm is a weightless L2 norm.
// Rules: transformers models/llama4/configuration_llama4.py (Llama4TextConfig defaults for no_rope_layers and
// moe_layers), modeling_llama4.py (Llama4TextDecoderLayer, Llama4TextMoe.shared_expert); vLLM
// model_executor/models/llama4.py Llama4Attention (chunked local attention only when not nope).
// GGUF names: llama.cpp LLM_ARCH_LLAMA4 (ffn_*_exps, ffn_*_shexp, ffn_gate_inp).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, attentionTensors, dtypeOf, finishModel, gatedFfnTensors, globalTensors, layer, moeTensors, normTensor } from "./common.js";
import { chunkedLocal, fullAttention } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import { layerTypes, textConfigOf } from "./patterns.js";
import { llama4Vision } from "./vision.js";
import { InputError } from "../types.js";
import type { CacheSpec, LayerSpec, ModelSpec, TensorSpec, VisionSpec } from "../types.js";
import type { LayerPattern } from "./layer-pattern.js";

/** Every 4th layer is NoPE with full attention, the others attend within 8192-token chunks (Llama4TextConfig defaults). */
const LLAMA4_LAYERS = { swaPeriod: 4, chunkDefault: 8192 } satisfies LayerPattern;

function buildLlama4Text(config: HfConfig, id: string, vision?: (hidden: number) => VisionSpec): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("hidden_size");
  const nLayers = r.int("num_hidden_layers");
  const nHeads = r.int("num_attention_heads");
  const expertInter = r.int("intermediate_size");
  const vocab = r.int("vocab_size");
  const experts = r.int("num_local_experts");
  const active = r.int("num_experts_per_tok");
  r.done();
  const nKvHeads = r.optInt("num_key_value_heads", nHeads);
  const headDim = r.optInt("head_dim") ?? hidden / nHeads;
  const denseInter = r.optInt("intermediate_size_mlp", expertInter);
  const tied = r.optBool("tie_word_embeddings", false);
  const chunk = r.optInt("attention_chunk_size");
  const step = r.optInt("interleave_moe_layer_step", 1);
  const moeList = r.optArray<number>("moe_layers");
  // Llama4TextConfig: moe_layers defaults to range(step - 1, n, step); step 0 means no MoE layer.
  const moe = new Set(moeList ?? (step > 0 ? Array.from({ length: Math.ceil((nLayers - step + 1) / step) }, (_, k) => step - 1 + k * step) : []));
  // no_rope_layers[i] = 1 when layer i uses RoPE; an empty list means the default: NoPE every 4th layer.
  const interval = r.optInt("no_rope_layer_interval", LLAMA4_LAYERS.swaPeriod);
  const noRope = r.optArray<number>("no_rope_layers");
  const usesRope = noRope && noRope.length ? noRope.map((v) => v === 1) : Array.from({ length: nLayers }, (_, i) => (i + 1) % interval !== 0);
  if (usesRope.length !== nLayers) throw new InputError(`${id}: "no_rope_layers" must list ${nLayers} entries, got ${usesRope.length}`);
  const types = layerTypes(config, id, nLayers, (i) => (usesRope[i] && chunk ? "chunked_attention" : "full_attention"));
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const b = `blk.${i}.`;
    const t: TensorSpec[] = [normTensor(b + "attn_norm", hidden), ...attentionTensors(i, { hidden, nHeads, nKvHeads, headDimK: headDim }), normTensor(b + "ffn_norm", hidden)];
    if (moe.has(i)) t.push(...moeTensors(i, hidden, expertInter, experts), ...gatedFfnTensors(i, hidden, expertInter, "shared_expert", "_shexp"));
    else t.push(...gatedFfnTensors(i, hidden, denseInter));
    const chunked = types[i] === "chunked_attention" && chunk !== undefined && chunk > 0;
    const cache: CacheSpec = chunked ? chunkedLocal(nKvHeads, headDim, chunk) : fullAttention(nKvHeads, headDim);
    layers.push(layer(i, chunked ? "chunked" : "attention", cache, t, moe.has(i) ? { experts, activeExperts: active, sharedExperts: 1 } : undefined));
  }
  return finishModel({
    id,
    modelType: String(config.model_type ?? "llama4_text"),
    family: "llama4",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 131072),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals: globalTensors({ vocab, hidden, tied }),
    ...(vision ? { vision: vision(hidden) } : {}),
  });
}

export const llama4Family: ArchitectureFamily = {
  name: "llama4",
  modelTypes: ["llama4", "llama4_text"],
  gguf: "llama4",
  layers: LLAMA4_LAYERS,
  build: (c, id) => {
    if (c.model_type === "llama4_text") return buildLlama4Text(c, id);
    const text = { model_type: "llama4_text", ...textConfigOf(c, id) };
    return buildLlama4Text(text, id, c.vision_config ? (hidden) => llama4Vision(c, id, hidden) : undefined);
  },
};
