// Mamba (model_type "mamba") and Mamba2 ("mamba2") state-space models, plus the mixer builders the hybrids
// (Jamba, Nemotron-H) reuse. Tensors: transformers models/mamba/modeling_mamba.py MambaMixer and
// models/mamba2/modeling_mamba2.py Mamba2Mixer; GGUF names from llama.cpp src/llama-model.cpp LLM_ARCH_MAMBA/MAMBA2.
// Recurrent state per layer per sequence, not per token:
//   vLLM vllm/model_executor/layers/mamba/mamba_utils.py MambaStateShapeCalculator.mamba1_state_shape:
//     conv (d_conv - 1) x d_inner, ssm d_inner x d_state;
//   .mamba2_state_shape: conv (d_conv - 1) x (d_inner + 2 n_groups d_state), ssm n_heads x head_dim x d_state;
//   llama.cpp src/llama-hparams.cpp n_embd_r() = (d_conv - 1) * (d_inner + 2 n_group d_state), n_embd_s() = d_state * d_inner (the same counts).
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader, dtypeOf, finishModel, globalTensors, layer, normTensor, tensor } from "./common.js";
import type { HfConfig } from "./common.js";
import { InputError } from "../types.js";
import type { CacheSpec, LayerSpec, ModelSpec, TensorSpec } from "../types.js";

export interface Mamba1Dims {
  hidden: number;
  dInner: number;
  dState: number;
  dConv: number;
  dtRank: number;
  convBias: boolean;
  projBias: boolean;
}

/** MambaMixer: in_proj, conv1d, x_proj, dt_proj (+bias), A_log, D, out_proj. */
export function mamba1Tensors(i: number, d: Mamba1Dims): TensorSpec[] {
  const b = `blk.${i}.`;
  const t = [
    tensor(b + "ssm_in", [d.hidden, 2 * d.dInner], "ssm"),
    tensor(b + "ssm_conv1d", [d.dConv, d.dInner], "ssm"),
    tensor(b + "ssm_x", [d.dInner, d.dtRank + 2 * d.dState], "ssm"),
    tensor(b + "ssm_dt", [d.dtRank, d.dInner], "ssm"),
    normTensor(b + "ssm_dt.bias", d.dInner),
    tensor(b + "ssm_a", [d.dState, d.dInner], "norm"),
    normTensor(b + "ssm_d", d.dInner),
    tensor(b + "ssm_out", [d.dInner, d.hidden], "ssm"),
  ];
  if (d.convBias) t.push(normTensor(b + "ssm_conv1d.bias", d.dInner));
  if (d.projBias) t.push(normTensor(b + "ssm_in.bias", 2 * d.dInner), normTensor(b + "ssm_out.bias", d.hidden));
  return t;
}

export function mamba1Cache(d: Mamba1Dims): CacheSpec {
  return { kind: "recurrent", variant: "mamba", convElems: (d.dConv - 1) * d.dInner, stateElems: d.dInner * d.dState };
}

export interface Mamba2Dims {
  hidden: number;
  nHeads: number;
  headDim: number;
  nGroups: number;
  dState: number;
  dConv: number;
  convBias: boolean;
  projBias: boolean;
}

export function mamba2Inner(d: Mamba2Dims): number {
  return d.nHeads * d.headDim;
}

/** Mamba2Mixer: in_proj (z, xBC, dt), conv1d over xBC, dt_bias, A_log, D, gated norm, out_proj. */
export function mamba2Tensors(i: number, d: Mamba2Dims): TensorSpec[] {
  const b = `blk.${i}.`;
  const inner = mamba2Inner(d);
  const convDim = inner + 2 * d.nGroups * d.dState;
  const t = [
    tensor(b + "ssm_in", [d.hidden, inner + convDim + d.nHeads], "ssm"),
    tensor(b + "ssm_conv1d", [d.dConv, convDim], "ssm"),
    normTensor(b + "ssm_dt.bias", d.nHeads),
    normTensor(b + "ssm_a", d.nHeads),
    normTensor(b + "ssm_d", d.nHeads),
    normTensor(b + "ssm_norm", inner),
    tensor(b + "ssm_out", [inner, d.hidden], "ssm"),
  ];
  if (d.convBias) t.push(normTensor(b + "ssm_conv1d.bias", convDim));
  if (d.projBias) t.push(normTensor(b + "ssm_in.bias", inner + convDim + d.nHeads), normTensor(b + "ssm_out.bias", d.hidden));
  return t;
}

export function mamba2Cache(d: Mamba2Dims): CacheSpec {
  return {
    kind: "recurrent",
    variant: "mamba2",
    convElems: (d.dConv - 1) * (mamba2Inner(d) + 2 * d.nGroups * d.dState),
    stateElems: d.nHeads * d.headDim * d.dState,
  };
}

/** time_step_rank / mamba_dt_rank: "auto" means ceil(hidden / 16) (MambaConfig, JambaConfig). */
export function dtRankOf(v: unknown, hidden: number, label: string): number {
  if (v === undefined || v === null || v === "auto") return Math.ceil(hidden / 16);
  if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  throw new InputError(`${label}: time step rank must be a positive integer or "auto", got ${JSON.stringify(v)}`);
}

interface SsmHead {
  modelType: string;
  family: string;
  hidden: number;
  vocab: number;
  tied: boolean;
}

function finishSsm(config: HfConfig, id: string, head: SsmHead, layers: LayerSpec[], r: ConfigReader): ModelSpec {
  const { hidden, vocab, tied } = head;
  return finishModel({
    id,
    modelType: head.modelType,
    family: head.family,
    hiddenSize: hidden,
    vocabSize: vocab,
    nHeads: 0,
    // Recurrent models have no positional limit; the context is bounded by the user's request only.
    maxContext: r.optInt("max_position_embeddings", 1 << 20),
    tiedEmbeddings: tied,
    nativeDtype: dtypeOf(config),
    layers,
    globals: globalTensors({ vocab, hidden, tied }),
  });
}

export function buildMamba(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("hidden_size", "d_model");
  const nLayers = r.int("num_hidden_layers", "n_layer");
  const vocab = r.int("vocab_size");
  const dState = r.int("state_size");
  r.done();
  const dInner = r.optInt("intermediate_size") ?? r.optInt("expand", 2) * hidden;
  const d: Mamba1Dims = {
    hidden,
    dInner,
    dState,
    dConv: r.optInt("conv_kernel", 4),
    dtRank: dtRankOf(config.time_step_rank, hidden, id),
    convBias: r.optBool("use_conv_bias", true),
    projBias: r.optBool("use_bias", false),
  };
  // MambaConfig leaves tie_word_embeddings to PretrainedConfig, which ties by default.
  const tied = r.optBool("tie_word_embeddings", true);
  return finishSsm(config, id, { modelType: "mamba", family: "mamba", hidden, vocab, tied }, mamba1Layers(nLayers, d), r);
}

export function buildMamba2(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("hidden_size");
  const nLayers = r.int("num_hidden_layers");
  const vocab = r.int("vocab_size");
  const nHeads = r.int("num_heads");
  const headDim = r.int("head_dim");
  const dState = r.int("state_size");
  r.done();
  const d: Mamba2Dims = {
    hidden,
    nHeads,
    headDim,
    // transformers models/mamba2/configuration_mamba2.py Mamba2Config defaults: n_groups 8, untied embeddings.
    nGroups: r.optInt("n_groups", 8),
    dState,
    dConv: r.optInt("conv_kernel", 4),
    convBias: r.optBool("use_conv_bias", true),
    projBias: r.optBool("use_bias", false),
  };
  const tied = r.optBool("tie_word_embeddings", false);
  return finishSsm(config, id, { modelType: "mamba2", family: "mamba2", hidden, vocab, tied }, mamba2Layers(nLayers, d), r);
}

function mamba1Layers(n: number, d: Mamba1Dims): LayerSpec[] {
  return Array.from({ length: n }, (_, i) => layer(i, "mamba", mamba1Cache(d), [normTensor(`blk.${i}.attn_norm`, d.hidden), ...mamba1Tensors(i, d)]));
}

function mamba2Layers(n: number, d: Mamba2Dims): LayerSpec[] {
  return Array.from({ length: n }, (_, i) => layer(i, "mamba2", mamba2Cache(d), [normTensor(`blk.${i}.attn_norm`, d.hidden), ...mamba2Tensors(i, d)]));
}

/**
 * The original state-spaces checkpoints (state-spaces/mamba-*, mamba2-*) ship mamba_ssm's own config.json: d_model,
 * n_layer, vocab_size, ssm_cfg, no model_type. llama.cpp convert_hf_to_gguf.py get_model_architecture reads such a
 * file as ssm_cfg.layer + "ForCausalLM" ("Mamba" when absent). Defaults are mamba_ssm's: models/config_mamba.py
 * MambaConfig (pad_vocab_size_multiple 8, tie_embeddings true), modules/mamba_simple.py Mamba (d_state 16, d_conv 4,
 * expand 2, dt_rank ceil(d_model/16)), modules/mamba2.py Mamba2 (d_state 128, d_conv 4, expand 2, headdim 64,
 * ngroups 1); models/mixer_seq_simple.py MambaLMHeadModel pads the vocabulary up to pad_vocab_size_multiple.
 */
export function buildMambaSsm(config: HfConfig, id: string): ModelSpec {
  const r = new ConfigReader(config, id);
  const hidden = r.int("d_model");
  const nLayers = r.int("n_layer");
  const rawVocab = r.int("vocab_size");
  r.done();
  const ssm = config.ssm_cfg;
  if (typeof ssm !== "object" || ssm === null || Array.isArray(ssm)) throw new InputError(`${id}: mamba_ssm config field "ssm_cfg" must be an object`);
  const s = new ConfigReader(ssm as HfConfig, `${id} ssm_cfg`);
  if (r.optInt("d_intermediate", 0) > 0 || (r.optArray("attn_layer_idx") ?? []).length > 0 || s.has("d_ssm")) {
    throw new InputError(`${id}: mamba_ssm configs with MLP blocks (d_intermediate), attention layers (attn_layer_idx) or d_ssm are not supported; give the transformers config.json instead`);
  }
  const multiple = r.optInt("pad_vocab_size_multiple", 8);
  const vocab = Math.ceil(rawVocab / multiple) * multiple;
  const tied = r.optBool("tie_embeddings", true);
  const kind = s.optString("layer") ?? "Mamba";
  const dConv = s.optInt("d_conv", 4);
  const dInner = s.optInt("expand", 2) * hidden;
  const convBias = s.optBool("conv_bias", true);
  const projBias = s.optBool("bias", false);
  if (kind === "Mamba2") {
    const headDim = s.optInt("headdim", 64);
    const d: Mamba2Dims = { hidden, nHeads: dInner / headDim, headDim, nGroups: s.optInt("ngroups", 1), dState: s.optInt("d_state", 128), dConv, convBias, projBias };
    return finishSsm(config, id, { modelType: "mamba2", family: "mamba2", hidden, vocab, tied }, mamba2Layers(nLayers, d), r);
  }
  if (kind !== "Mamba" && kind !== "Mamba1") throw new InputError(`${id}: unknown mamba_ssm layer "${kind}" in ssm_cfg.layer (known: Mamba1, Mamba2)`);
  const d: Mamba1Dims = { hidden, dInner, dState: s.optInt("d_state", 16), dConv, dtRank: dtRankOf(s.config.dt_rank, hidden, id), convBias, projBias };
  return finishSsm(config, id, { modelType: "mamba", family: "mamba", hidden, vocab, tied }, mamba1Layers(nLayers, d), r);
}

export const mambaFamily: ArchitectureFamily = { name: "mamba", modelTypes: ["mamba"], layers: { recurrent: { variant: "mamba", layers: "all" } }, build: buildMamba };
export const mamba2Family: ArchitectureFamily = { name: "mamba2", modelTypes: ["mamba2"], layers: { recurrent: { variant: "mamba2", layers: "all" } }, build: buildMamba2 };
