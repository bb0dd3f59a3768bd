// A tiny GGUF v3 writer for tests: real files that the real llama.cpp (node-llama-cpp) loads.
// Layout per ggml/docs/gguf.md: magic, version, tensor count, kv count, key/values (serialized by @huggingface/gguf's
// serializeGgufMetadata), tensor infos, padding to general.alignment (32), tensor data (each tensor aligned); the
// serializer has no tensor part, so infos and data are written here. F32/F16/Q8_0/Q4_0 tensors with small
// deterministic values.
import { writeFileSync } from "node:fs";
import { GGUFValueType, serializeGgufMetadata } from "@huggingface/gguf";
import type { GGUFTypedMetadata } from "@huggingface/gguf";

export type GgufValue =
  | { t: "u16"; v: number }
  | { t: "u32"; v: number }
  | { t: "i32"; v: number }
  | { t: "f32"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "str"; v: string }
  | { t: "arr-str"; v: string[] }
  | { t: "arr-f32"; v: number[] }
  | { t: "arr-i32"; v: number[] };

export const u16 = (v: number): GgufValue => ({ t: "u16", v });
export const u32 = (v: number): GgufValue => ({ t: "u32", v });
export const f32 = (v: number): GgufValue => ({ t: "f32", v });
export const str = (v: string): GgufValue => ({ t: "str", v });

export type TensorType = "F32" | "F16" | "Q8_0" | "Q4_0";
export interface TensorIn {
  name: string;
  /** ggml ne[]: ne0 is the row length. */
  shape: number[];
  type: TensorType;
}

const TYPE_ID: Record<TensorType, number> = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 };
const BLOCK: Record<TensorType, [number, number]> = { F32: [1, 4], F16: [1, 2], Q4_0: [32, 18], Q8_0: [32, 34] };
const ALIGN = 32;

/** Bytes of one tensor's data (ggml_nbytes for a contiguous tensor). */
export function tensorBytes(t: TensorIn): number {
  const [bs, ts] = BLOCK[t.type];
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.shape[0] % bs) throw new Error(`${t.name}: row length ${t.shape[0]} is not a multiple of ${bs} for ${t.type}`);
  return (n / bs) * ts;
}

/** The key/values in @huggingface/gguf's typed form, for its serializer. */
function typed(metadata: Record<string, GgufValue>, tensorCount: number): GGUFTypedMetadata {
  const entry = (v: GgufValue) => {
    switch (v.t) {
      case "u16": return { type: GGUFValueType.UINT16, value: v.v };
      case "u32": return { type: GGUFValueType.UINT32, value: v.v };
      case "i32": return { type: GGUFValueType.INT32, value: v.v };
      case "f32": return { type: GGUFValueType.FLOAT32, value: v.v };
      case "bool": return { type: GGUFValueType.BOOL, value: v.v };
      case "str": return { type: GGUFValueType.STRING, value: v.v };
      case "arr-str": return { type: GGUFValueType.ARRAY, subType: GGUFValueType.STRING, value: v.v };
      case "arr-f32": return { type: GGUFValueType.ARRAY, subType: GGUFValueType.FLOAT32, value: v.v };
      case "arr-i32": return { type: GGUFValueType.ARRAY, subType: GGUFValueType.INT32, value: v.v };
    }
  };
  const out: Record<string, unknown> = {
    version: { type: GGUFValueType.UINT32, value: 3 },
    tensor_count: { type: GGUFValueType.UINT64, value: BigInt(tensorCount) },
    kv_count: { type: GGUFValueType.UINT64, value: BigInt(Object.keys(metadata).length) },
  };
  for (const [k, v] of Object.entries(metadata)) out[k] = entry(v);
  return out as GGUFTypedMetadata;
}

/** Tensor infos (not covered by the serializer): name, dims, ggml type, data offset; 64-bit sizes, little endian. */
function tensorInfos(tensors: TensorIn[]): Buffer {
  const parts: Buffer[] = [];
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  let offset = 0;
  for (const t of tensors) {
    const name = Buffer.from(t.name, "utf8");
    u64(name.length);
    parts.push(name);
    u32(t.shape.length);
    for (const d of t.shape) u64(d);
    u32(TYPE_ID[t.type]);
    u64(offset);
    offset += Math.ceil(tensorBytes(t) / ALIGN) * ALIGN;
  }
  return Buffer.concat(parts);
}

const padding = (size: number) => Buffer.alloc((ALIGN - (size % ALIGN)) % ALIGN);

/** Deterministic small values, valid for every type (no NaN/Inf in scales). */
function tensorData(t: TensorIn, seed: number): Buffer {
  const n = tensorBytes(t);
  const out = Buffer.alloc(n);
  let s = seed >>> 0 || 1;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
  if (t.type === "F32") for (let i = 0; i < n; i += 4) out.writeFloatLE(rnd() * 0.1, i);
  else if (t.type === "F16") for (let i = 0; i < n; i += 2) out.writeUInt16LE(0x2000 + Math.floor((rnd() + 0.5) * 255), i);
  else {
    const [, ts] = BLOCK[t.type];
    for (let i = 0; i < n; i += ts) {
      out.writeUInt16LE(0x1800, i); // f16 scale ≈ 0.0019
      for (let j = 2; j < ts; j++) out[i + j] = Math.floor((rnd() + 0.5) * 255);
    }
  }
  return out;
}

export function writeGguf(file: string, metadata: Record<string, GgufValue>, tensors: TensorIn[]): number {
  // Magic, version, counts and key/values from @huggingface/gguf (alignment 1: no padding before the tensor infos).
  const parts: Buffer[] = [Buffer.from(serializeGgufMetadata(typed(metadata, tensors.length), { alignment: 1 })), tensorInfos(tensors)];
  let size = parts[0].length + parts[1].length;
  const push = (b: Buffer) => {
    parts.push(b);
    size += b.length;
  };
  push(padding(size));
  tensors.forEach((t, i) => {
    push(tensorData(t, i + 1));
    push(padding(size));
  });
  writeFileSync(file, Buffer.concat(parts));
  return size;
}

/** SPM vocabulary with byte tokens: <unk>, <s>, </s>, 256 byte tokens, then a few words (llama-vocab.cpp needs the byte tokens). */
export function spmVocab(extra = ["▁a", "▁b", "▁c", "▁the", "▁hello", "▁world"]): Record<string, GgufValue> {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [2, 3, 3];
  for (let i = 0; i < 256; i++) {
    tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  for (const w of extra) {
    tokens.push(w);
    types.push(1);
  }
  return {
    "tokenizer.ggml.model": str("llama"),
    "tokenizer.ggml.tokens": { t: "arr-str", v: tokens },
    "tokenizer.ggml.scores": { t: "arr-f32", v: tokens.map((_, i) => -i) },
    "tokenizer.ggml.token_type": { t: "arr-i32", v: types },
    "tokenizer.ggml.bos_token_id": u32(1),
    "tokenizer.ggml.eos_token_id": u32(2),
    "tokenizer.ggml.unknown_token_id": u32(0),
  };
}

export interface TinyModel {
  arch: "llama" | "gemma2" | "mamba" | "deepseek2";
  nLayer: number;
  nEmbd: number;
  nHead?: number;
  nHeadKv?: number;
  headDim?: number;
  nFf?: number;
  /** gemma2: attention.sliding_window. */
  window?: number;
  /** deepseek2 (MLA): latent rank, rope dims, per-head q/k "nope" and v dims. */
  kvLoraRank?: number;
  ropeDim?: number;
  nopeDim?: number;
  vHeadDim?: number;
  /** mamba */
  dConv?: number;
  dInner?: number;
  dState?: number;
  dtRank?: number;
  /** Type of the 2-D weight matrices (norms stay F32 as llama-quant.cpp keeps them). */
  weightType?: TensorType;
  tied?: boolean;
  contextLength?: number;
  /** Vocabulary size (≥ 265, the byte vocabulary): padded with normal word tokens. */
  nVocab?: number;
}

/** Metadata + tensor list of a tiny model in llama.cpp's GGUF naming (src/models/<arch>.cpp load_tensors). */
export function tinyModel(m: TinyModel): { metadata: Record<string, GgufValue>; tensors: TensorIn[] } {
  const a = m.arch;
  const extra = ["▁a", "▁b", "▁c", "▁the", "▁hello", "▁world"];
  for (let i = extra.length; i < (m.nVocab ?? 0) - 259; i++) extra.push(`▁w${i}`);
  const vocab = spmVocab(extra);
  const nVocab = (vocab["tokenizer.ggml.tokens"] as { v: string[] }).v.length;
  const wt = m.weightType ?? "F32";
  const E = m.nEmbd;
  const md: Record<string, GgufValue> = {
    "general.architecture": str(a),
    "general.name": str(`hwledger-tiny-${a}`),
    [`${a}.block_count`]: u32(m.nLayer),
    [`${a}.context_length`]: u32(m.contextLength ?? 4096),
    [`${a}.embedding_length`]: u32(E),
    [`${a}.attention.layer_norm_rms_epsilon`]: f32(1e-6),
    ...vocab,
  };
  const T: TensorIn[] = [{ name: "token_embd.weight", shape: [E, nVocab], type: wt }, { name: "output_norm.weight", shape: [E], type: "F32" }];
  if (!m.tied) T.push({ name: "output.weight", shape: [E, nVocab], type: wt });
  if (a === "mamba") {
    const dConv = m.dConv ?? 4, dInner = m.dInner ?? 2 * E, dState = m.dState ?? 16, dtRank = m.dtRank ?? Math.ceil(E / 16);
    Object.assign(md, {
      [`${a}.feed_forward_length`]: u32(0),
      [`${a}.attention.head_count`]: u32(0),
      [`${a}.ssm.conv_kernel`]: u32(dConv),
      [`${a}.ssm.inner_size`]: u32(dInner),
      [`${a}.ssm.state_size`]: u32(dState),
      [`${a}.ssm.time_step_rank`]: u32(dtRank),
    });
    for (let i = 0; i < m.nLayer; i++) {
      const b = `blk.${i}.`;
      T.push(
        { name: b + "attn_norm.weight", shape: [E], type: "F32" },
        { name: b + "ssm_in.weight", shape: [E, 2 * dInner], type: wt },
        { name: b + "ssm_conv1d.weight", shape: [dConv, dInner], type: "F32" },
        { name: b + "ssm_conv1d.bias", shape: [dInner], type: "F32" },
        { name: b + "ssm_x.weight", shape: [dInner, dtRank + 2 * dState], type: wt },
        { name: b + "ssm_dt.weight", shape: [dtRank, dInner], type: "F32" },
        { name: b + "ssm_dt.bias", shape: [dInner], type: "F32" },
        { name: b + "ssm_a", shape: [dState, dInner], type: "F32" },
        { name: b + "ssm_d", shape: [dInner], type: "F32" },
        { name: b + "ssm_out.weight", shape: [dInner, E], type: wt },
      );
    }
    return { metadata: md, tensors: T };
  }
  if (a === "deepseek2") {
    // src/models/deepseek2.cpp: MLA GGUFs store head_count_kv 1, key_length = kv_lora_rank + n_rot (the cached
    // latent), value_length = kv_lora_rank, and the per-head sizes as key_length_mla / value_length_mla.
    const H = m.nHead ?? 4, r = m.kvLoraRank ?? 64, rope = m.ropeDim ?? 32, nope = m.nopeDim ?? 32, vd = m.vHeadDim ?? 32, nFf = m.nFf ?? 2 * E;
    Object.assign(md, {
      [`${a}.feed_forward_length`]: u32(nFf),
      [`${a}.attention.head_count`]: u32(H),
      [`${a}.attention.head_count_kv`]: u32(1),
      [`${a}.attention.key_length`]: u32(r + rope),
      [`${a}.attention.value_length`]: u32(r),
      [`${a}.attention.key_length_mla`]: u32(nope + rope),
      [`${a}.attention.value_length_mla`]: u32(vd),
      [`${a}.attention.kv_lora_rank`]: u32(r),
      [`${a}.attention.q_lora_rank`]: u32(0),
      [`${a}.rope.dimension_count`]: u32(rope),
      [`${a}.leading_dense_block_count`]: u32(m.nLayer),
      [`${a}.expert_feed_forward_length`]: u32(nFf),
      [`${a}.expert_shared_count`]: u32(0),
      [`${a}.expert_count`]: u32(0),
      [`${a}.expert_used_count`]: u32(0),
    });
    for (let i = 0; i < m.nLayer; i++) {
      const b = `blk.${i}.`;
      T.push(
        { name: b + "attn_norm.weight", shape: [E], type: "F32" },
        { name: b + "attn_kv_a_norm.weight", shape: [r], type: "F32" },
        { name: b + "attn_q.weight", shape: [E, H * (nope + rope)], type: wt },
        { name: b + "attn_kv_a_mqa.weight", shape: [E, r + rope], type: wt },
        { name: b + "attn_k_b.weight", shape: [nope, r, H], type: "F32" },
        { name: b + "attn_v_b.weight", shape: [r, vd, H], type: wt },
        { name: b + "attn_output.weight", shape: [H * vd, E], type: wt },
        { name: b + "ffn_norm.weight", shape: [E], type: "F32" },
        { name: b + "ffn_gate.weight", shape: [E, nFf], type: wt },
        { name: b + "ffn_up.weight", shape: [E, nFf], type: wt },
        { name: b + "ffn_down.weight", shape: [nFf, E], type: wt },
      );
    }
    return { metadata: md, tensors: T };
  }
  const nHead = m.nHead ?? 4, nHeadKv = m.nHeadKv ?? nHead, hd = m.headDim ?? E / nHead, nFf = m.nFf ?? 2 * E;
  Object.assign(md, {
    [`${a}.feed_forward_length`]: u32(nFf),
    [`${a}.attention.head_count`]: u32(nHead),
    [`${a}.attention.head_count_kv`]: u32(nHeadKv),
    [`${a}.attention.key_length`]: u32(hd),
    [`${a}.attention.value_length`]: u32(hd),
    [`${a}.rope.dimension_count`]: u32(hd),
  });
  if (m.window) md[`${a}.attention.sliding_window`] = u32(m.window);
  for (let i = 0; i < m.nLayer; i++) {
    const b = `blk.${i}.`;
    T.push(
      { name: b + "attn_norm.weight", shape: [E], type: "F32" },
      { name: b + "attn_q.weight", shape: [E, nHead * hd], type: wt },
      { name: b + "attn_k.weight", shape: [E, nHeadKv * hd], type: wt },
      { name: b + "attn_v.weight", shape: [E, nHeadKv * hd], type: wt },
      { name: b + "attn_output.weight", shape: [nHead * hd, E], type: wt },
    );
    if (a === "gemma2") T.push({ name: b + "post_attention_norm.weight", shape: [E], type: "F32" });
    T.push(
      { name: b + "ffn_norm.weight", shape: [E], type: "F32" },
      { name: b + "ffn_gate.weight", shape: [E, nFf], type: wt },
      { name: b + "ffn_up.weight", shape: [E, nFf], type: wt },
      { name: b + "ffn_down.weight", shape: [nFf, E], type: wt },
    );
    if (a === "gemma2") T.push({ name: b + "post_ffw_norm.weight", shape: [E], type: "F32" });
  }
  return { metadata: md, tensors: T };
}
