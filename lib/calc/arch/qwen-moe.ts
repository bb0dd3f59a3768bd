// Qwen MoE decoders: Qwen1.5-MoE / Qwen2-MoE (model_type "qwen2_moe") and Qwen3-MoE ("qwen3_moe").
// Which layers are sparse: transformers models/qwen2_moe/modeling_qwen2_moe.py Qwen2MoeDecoderLayer
// (and qwen3_moe the same): sparse when layer_idx not in mlp_only_layers and num_experts > 0 and
// (layer_idx + 1) % decoder_sparse_step == 0, else a dense MLP of intermediate_size.
// Qwen2-MoE adds a shared expert (shared_expert_intermediate_size) with a sigmoid gate Linear(hidden, 1)
// (Qwen2MoeSparseMoeBlock); llama.cpp names them ffn_*_shexp and ffn_gate_inp_shexp (src/llama-model.cpp, LLM_ARCH_QWEN2MOE).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, attentionTensors, dtypeOf, finishModel, gatedFfnTensors, globalTensors, layer, moeTensors, normTensor, tensor } from "./common.js";
import { fullAttention } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import { InputError } from "../types.js";
import type { LayerSpec, ModelSpec, TensorSpec } from "../types.js";

/** True when a Qwen MoE layer uses the sparse block (Qwen2MoeDecoderLayer / Qwen3MoeDecoderLayer). */
export function qwenSparseLayer(i: number, experts: number, sparseStep: number, mlpOnly: number[]): boolean {
  return !mlpOnly.includes(i) && experts > 0 && sparseStep > 0 && (i + 1) % sparseStep === 0;
}

function buildQwenMoe(config: HfConfig, id: string, v: "qwen2_moe" | "qwen3_moe"): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("hidden_size");
  const nLayers = r.int("num_hidden_layers");
  const nHeads = r.int("num_attention_heads");
  const vocab = r.int("vocab_size");
  const experts = r.int("num_experts");
  const active = r.int("num_experts_per_tok");
  const moeInter = r.int("moe_intermediate_size");
  const shexpInter = v === "qwen2_moe" ? r.int("shared_expert_intermediate_size") : 0;
  r.done();
  const intermediate = r.optInt("intermediate_size", 0);
  const nKvHeads = r.optInt("num_key_value_heads", nHeads);
  const headDim = r.optInt("head_dim") ?? hidden / nHeads;
  const tied = r.optBool("tie_word_embeddings", false);
  const sparseStep = r.optInt("decoder_sparse_step", 1);
  const mlpOnly = r.optArray<number>("mlp_only_layers") ?? [];
  // Qwen2-MoE always has q/k/v biases (Qwen2MoeAttention bias=True); Qwen3-MoE follows attention_bias and adds q/k norms.
  const qkvBias = v === "qwen2_moe" ? true : r.optBool("attention_bias", false);
  const qkNorm = v === "qwen3_moe";
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const sparse = qwenSparseLayer(i, experts, sparseStep, mlpOnly);
    const tensors: TensorSpec[] = [
      normTensor(`blk.${i}.attn_norm`, hidden),
      ...attentionTensors(i, { hidden, nHeads, nKvHeads, headDimK: headDim, qkvBias, qkNorm }),
      normTensor(`blk.${i}.ffn_norm`, hidden),
    ];
    if (sparse) {
      tensors.push(...moeTensors(i, hidden, moeInter, experts));
      if (shexpInter > 0) {
        tensors.push(...gatedFfnTensors(i, hidden, shexpInter, "shared_expert", "_shexp"), tensor(`blk.${i}.ffn_gate_inp_shexp`, [hidden], "router"));
      }
    } else {
      if (!intermediate) throw new InputError(`${id}: layer ${i} is dense but config.json has no "intermediate_size"`);
      tensors.push(...gatedFfnTensors(i, hidden, intermediate));
    }
    const moe = sparse ? { experts, activeExperts: active, sharedExperts: shexpInter > 0 ? 1 : 0 } : undefined;
    layers.push(layer(i, "attention", fullAttention(nKvHeads, headDim), tensors, moe));
  }
  return finishModel({
    id,
    modelType: v,
    family: v,
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

export const qwen2MoeFamily: ArchitectureFamily = { name: "qwen2_moe", modelTypes: ["qwen2_moe"], build: (c, id) => buildQwenMoe(c, id, "qwen2_moe") };
export const qwen3MoeFamily: ArchitectureFamily = { name: "qwen3_moe", modelTypes: ["qwen3_moe"], build: (c, id) => buildQwenMoe(c, id, "qwen3_moe") };
