// Qwen3-Next (model_type "qwen3_next"): gated delta net linear attention with a gated full-attention layer
// every full_attention_interval layers, and a Qwen MoE (routed + gated shared expert) FFN.
// Layout: transformers models/qwen3_next/modeling_qwen3_next.py (Qwen3NextGatedDeltaNet: in_proj_qkvz,
// in_proj_ba, depthwise conv1d over q,k,v, dt_bias, A_log, gated RMSNorm, out_proj; Qwen3NextAttention: q_proj
// doubled for the output gate, q/k norms; Qwen3NextSparseMoeBlock); layer_types default: full attention when
// (i + 1) % full_attention_interval == 0 (Qwen3NextConfig).
// State per layer per sequence: vLLM vllm/model_executor/layers/mamba/mamba_utils.py
// MambaStateShapeCalculator.gated_delta_net_state_shape: conv (kernel - 1) x (2 num_k_heads head_k_dim +
// num_v_heads head_v_dim), recurrent num_v_heads x head_v_dim x head_k_dim.
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, attentionTensors, dtypeOf, finishModel, gatedFfnTensors, globalTensors, layer, moeTensors, normTensor, tensor } from "./common.js";
import { fullAttention } from "../cache/index.js";
import type { HfConfig } from "./common.js";
import { qwenSparseLayer } from "./qwen-moe.js";
import { InputError } from "../types.js";
import type { CacheSpec, LayerSpec, ModelSpec, TensorSpec } from "../types.js";
import { isRecurrentBetweenFull } from "./layer-pattern.js";
import type { LayerPattern } from "./layer-pattern.js";

/** Gated delta net layers with a full-attention layer every 4th (Qwen3NextConfig full_attention_interval). */
const QWEN3_NEXT_LAYERS = { recurrent: { variant: "gated-delta-net", layers: { fullEvery: 4 } } } satisfies LayerPattern;

export interface GdnDims {
  hidden: number;
  nKHeads: number;
  nVHeads: number;
  headK: number;
  headV: number;
  kernel: number;
}

export function gatedDeltaNetTensors(i: number, d: GdnDims): TensorSpec[] {
  const b = `blk.${i}.`;
  const keyDim = d.nKHeads * d.headK;
  const valueDim = d.nVHeads * d.headV;
  const convDim = 2 * keyDim + valueDim;
  return [
    tensor(b + "ssm_in", [d.hidden, 2 * keyDim + 2 * valueDim], "ssm"),
    tensor(b + "ssm_beta_alpha", [d.hidden, 2 * d.nVHeads], "ssm"),
    tensor(b + "ssm_conv1d", [d.kernel, convDim], "ssm"),
    normTensor(b + "ssm_dt.bias", d.nVHeads),
    normTensor(b + "ssm_a", d.nVHeads),
    normTensor(b + "ssm_norm", d.headV),
    tensor(b + "ssm_out", [valueDim, d.hidden], "ssm"),
  ];
}

export function gatedDeltaNetCache(d: GdnDims): CacheSpec {
  return {
    kind: "recurrent",
    variant: "gated-delta-net",
    convElems: (d.kernel - 1) * (2 * d.nKHeads * d.headK + d.nVHeads * d.headV),
    stateElems: d.nVHeads * d.headV * d.headK,
  };
}

export function buildQwen3Next(config: HfConfig, id: string, as: { modelType: string; family: string } = { modelType: "qwen3_next", family: "qwen3-next" }): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("hidden_size");
  const nLayers = r.int("num_hidden_layers");
  const nHeads = r.int("num_attention_heads");
  const nKvHeads = r.int("num_key_value_heads");
  const headDim = r.int("head_dim");
  const vocab = r.int("vocab_size");
  const experts = r.int("num_experts");
  const active = r.int("num_experts_per_tok");
  const moeInter = r.int("moe_intermediate_size");
  const g: GdnDims = {
    hidden,
    nKHeads: r.int("linear_num_key_heads"),
    nVHeads: r.int("linear_num_value_heads"),
    headK: r.int("linear_key_head_dim"),
    headV: r.int("linear_value_head_dim"),
    kernel: r.int("linear_conv_kernel_dim"),
  };
  r.done();
  const interval = r.optInt("full_attention_interval", QWEN3_NEXT_LAYERS.recurrent.layers.fullEvery);
  const types = r.optArray<string>("layer_types") ?? Array.from({ length: nLayers }, (_, i) => (isRecurrentBetweenFull(interval, i) ? "linear_attention" : "full_attention"));
  if (types.length !== nLayers) throw new InputError(`${id}: layer_types has ${types.length} entries but num_hidden_layers is ${nLayers}`);
  const shexpInter = r.optInt("shared_expert_intermediate_size", 0);
  const intermediate = r.optInt("intermediate_size", 0);
  const sparseStep = r.optInt("decoder_sparse_step", 1);
  const mlpOnly = r.optArray<number>("mlp_only_layers") ?? [];
  const tied = r.optBool("tie_word_embeddings", false);
  const bias = r.optBool("attention_bias", false);
  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayers; i++) {
    const b = `blk.${i}.`;
    const full = types[i] === "full_attention";
    const t: TensorSpec[] = [normTensor(b + "attn_norm", hidden)];
    if (full) {
      const attn = attentionTensors(i, { hidden, nHeads, nKvHeads, headDimK: headDim, qkvBias: bias, qkNorm: true });
      // q_proj also yields the per-head output gate: 2 x heads x head_dim outputs.
      attn[0] = tensor(b + "attn_q", [hidden, 2 * nHeads * headDim], "attention");
      t.push(...attn);
    } else {
      t.push(...gatedDeltaNetTensors(i, g));
    }
    t.push(normTensor(b + "ffn_norm", hidden));
    const sparse = qwenSparseLayer(i, experts, sparseStep, mlpOnly);
    if (sparse) {
      t.push(...moeTensors(i, hidden, moeInter, experts));
      if (shexpInter > 0) t.push(...gatedFfnTensors(i, hidden, shexpInter, "shared_expert", "_shexp"), tensor(b + "ffn_gate_inp_shexp", [hidden], "router"));
    } else {
      t.push(...gatedFfnTensors(i, hidden, intermediate));
    }
    const moe = sparse ? { experts, activeExperts: active, sharedExperts: shexpInter > 0 ? 1 : 0 } : undefined;
    layers.push(layer(i, full ? "attention" : "gated-delta-net", full ? fullAttention(nKvHeads, headDim) : gatedDeltaNetCache(g), t, moe));
  }
  return finishModel({
    id,
    modelType: as.modelType,
    family: as.family,
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

export const qwen3NextFamily: ArchitectureFamily = { name: "qwen3-next", modelTypes: ["qwen3_next"], gguf: "qwen3next", layers: QWEN3_NEXT_LAYERS, build: (c, id) => buildQwen3Next(c, id) };

/**
 * Qwen3.5 vision tower + merger (Qwen3VL-style ViT), parameters from vision_config: transformers
 * models/qwen3_vl/modeling_qwen3_vl.py Qwen3VLVisionModel (patch_embed Conv3d with bias, learned pos_embed,
 * blocks of LayerNorm + qkv/proj + fc1/fc2 with biases, patch merger LayerNorm + 2 linears, deepstack mergers).
 */
export function qwen3VlVisionParams(v: HfConfig, id: string): number {
  const r = new ConfigReader(v, `${id} vision_config`);
  const h = r.int("hidden_size");
  const depth = r.int("depth");
  const inter = r.int("intermediate_size");
  const patch = r.int("patch_size");
  const out = r.int("out_hidden_size");
  r.done();
  const temporal = r.optInt("temporal_patch_size", 2);
  const inCh = r.optInt("in_channels", 3);
  const merge = r.optInt("spatial_merge_size", 2);
  const pos = r.optInt("num_position_embeddings", 0);
  const deepstack = (r.optArray("deepstack_visual_indexes") ?? []).length;
  const block = 2 * 2 * h + (h * 3 * h + 3 * h) + (h * h + h) + (h * inter + inter) + (inter * h + h);
  const mergedDim = h * merge * merge;
  const merger = (postShuffleNorm: boolean) => 2 * (postShuffleNorm ? mergedDim : h) + (mergedDim * mergedDim + mergedDim) + (mergedDim * out + out);
  return inCh * temporal * patch * patch * h + h + pos * h + depth * block + merger(false) + deepstack * merger(true);
}

/** Qwen3.5 MoE (model_type "qwen3_5_moe"): a Qwen3-Next text model in text_config plus a vision tower. */
export function buildQwen35Moe(config: HfConfig, id: string): ModelSpec {
  const text = config.text_config;
  if (typeof text !== "object" || text === null || Array.isArray(text)) throw new InputError(`${id}: config.json has no "text_config" object`);
  const t = text as HfConfig;
  // tie_word_embeddings sits at the top level of Qwen3.5 configs.
  const m = buildQwen3Next({ ...t, tie_word_embeddings: t.tie_word_embeddings ?? config.tie_word_embeddings }, id, { modelType: String(config.model_type), family: "qwen3-next" });
  if (t.attn_output_gate === false) throw new InputError(`${id}: attn_output_gate false is not a Qwen3.5 layout`);
  const mtp = typeof t.mtp_num_hidden_layers === "number" ? t.mtp_num_hidden_layers : 0;
  if (mtp > 0) m.notes.push(`mtp_num_hidden_layers=${mtp}: the multi-token-prediction layer is not counted (only loaded for speculative decoding)`);
  const v = config.vision_config;
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    m.vision = { params: qwen3VlVisionParams(v as HfConfig, id), basis: "Qwen3-VL vision tower and merger from vision_config (transformers Qwen3VLVisionModel)" };
  }
  return m;
}

export const qwen35MoeFamily: ArchitectureFamily = { name: "qwen3.5-moe", modelTypes: ["qwen3_5_moe"], gguf: "qwen35moe", layers: QWEN3_NEXT_LAYERS, build: buildQwen35Moe };
