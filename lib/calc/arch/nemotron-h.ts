// Nemotron-H (model_type "nemotron_h": Nemotron-H, Nemotron 3 Nano/Super): one mixer per layer chosen by
// hybrid_override_pattern: "M" Mamba2, "*" attention, "-" MLP, "E" MoE (transformers
// models/nemotron_h/modeling_nemotron_h.py NemotronHBlock; llama.cpp src/llama-model.cpp LLM_ARCH_NEMOTRON_H(_MOE)).
// MLPs and experts are non-gated (up_proj, relu2, down_proj: NemotronHMLP); MoE routing is DeepSeek-V3 style with a
// per-expert score bias (NemotronHTopkRouter.e_score_correction_bias) and shared experts.
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, attentionTensors, dtypeOf, finishModel, globalTensors, layer, normTensor, tensor } from "./common.js";
import { fullAttention } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import { mamba2Cache, mamba2Tensors } from "./mamba.js";
import type { Mamba2Dims } from "./mamba.js";
import { InputError } from "../types.js";
import type { CacheSpec, LayerSpec, ModelSpec, TensorRole, TensorSpec } from "../types.js";

function upDown(i: number, hidden: number, inter: number, role: TensorRole, suffix: string, bias: boolean): TensorSpec[] {
  const b = `blk.${i}.`;
  const t = [tensor(`${b}ffn_up${suffix}`, [hidden, inter], role), tensor(`${b}ffn_down${suffix}`, [inter, hidden], role)];
  if (bias) t.push(normTensor(`${b}ffn_up${suffix}.bias`, inter), normTensor(`${b}ffn_down${suffix}.bias`, hidden));
  return t;
}

export function buildNemotronH(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("hidden_size");
  const nLayers = r.int("num_hidden_layers");
  const nHeads = r.int("num_attention_heads");
  const nKvHeads = r.int("num_key_value_heads");
  const vocab = r.int("vocab_size");
  const d: Mamba2Dims = {
    hidden,
    nHeads: r.int("mamba_num_heads"),
    headDim: r.int("mamba_head_dim"),
    nGroups: r.int("n_groups"),
    dState: r.int("ssm_state_size"),
    dConv: r.int("conv_kernel"),
    convBias: r.optBool("use_conv_bias", true),
    projBias: r.optBool("use_bias", false),
  };
  r.done();
  const pattern = r.optString("hybrid_override_pattern");
  if (!pattern) throw new InputError(`${id}: config.json is missing required field(s): hybrid_override_pattern`);
  if (pattern.length !== nLayers) throw new InputError(`${id}: hybrid_override_pattern has ${pattern.length} layers but num_hidden_layers is ${nLayers}`);
  const headDim = r.optInt("head_dim") ?? r.optInt("attention_head_dim") ?? hidden / nHeads;
  const attnBias = r.optBool("attention_bias", false);
  const mlpBias = r.optBool("mlp_bias", false);
  const tied = r.optBool("tie_word_embeddings", false);
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const c = pattern[i];
    const t: TensorSpec[] = [normTensor(`blk.${i}.attn_norm`, hidden)];
    let kind: string;
    let cache: CacheSpec = { kind: "none" };
    let moe: LayerSpec["moe"];
    if (c === "M") {
      kind = "mamba2";
      t.push(...mamba2Tensors(i, d));
      cache = mamba2Cache(d);
    } else if (c === "*") {
      kind = "attention";
      t.push(...attentionTensors(i, { hidden, nHeads, nKvHeads, headDimK: headDim, qkvBias: attnBias, oBias: attnBias }));
      cache = fullAttention(nKvHeads, headDim);
    } else if (c === "-") {
      kind = "mlp";
      t.push(...upDown(i, hidden, r.int("intermediate_size"), "ffn", "", mlpBias));
    } else if (c === "E") {
      kind = "moe";
      const experts = r.int("n_routed_experts");
      const shared = r.optInt("n_shared_experts", 0);
      const inter = r.int("moe_intermediate_size");
      r.done();
      t.push(tensor(`blk.${i}.ffn_gate_inp`, [hidden, experts], "router"), normTensor(`blk.${i}.exp_probs_b`, experts));
      t.push(...upDown(i, hidden, inter, "expert", "_exps", false).map((x) => ({ ...x, shape: [...x.shape, experts] })));
      if (shared > 0) t.push(...upDown(i, hidden, r.optInt("moe_shared_expert_intermediate_size", inter * shared), "shared_expert", "_shexp", mlpBias));
      moe = { experts, activeExperts: r.int("num_experts_per_tok"), sharedExperts: shared };
    } else {
      throw new InputError(`${id}: hybrid_override_pattern has unknown block "${c}" at layer ${i} (known: M, *, -, E)`);
    }
    layers.push(layer(i, kind, cache, t, moe));
  }
  r.done();
  return finishModel({
    id,
    modelType: "nemotron_h",
    family: "nemotron-h",
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads,
    maxContext: r.optInt("max_position_embeddings", 8192),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals: globalTensors({ vocab, hidden, tied }),
  });
}

// A Nemotron-H GGUF marks its Mamba2 layers by no KV heads and no FFN (its MLP layers have neither heads nor state).
export const nemotronHFamily: ArchitectureFamily = { name: "nemotron-h", modelTypes: ["nemotron_h"], layers: { recurrent: { variant: "mamba2", layers: "no-kv-heads-no-ffn" } }, build: buildNemotronH };
