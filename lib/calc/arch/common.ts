// Building blocks shared by the architecture families: config field access with clear errors,
// and tensor lists in llama.cpp's GGUF naming (shape = ggml ne[], ne0 is the input/row length).
import { InputError } from "../types.js";
import { LIMITS, limitForKey, limitReason } from "../limits.js";
import type { LimitName } from "../limits.js";
import type { CacheSpec, LayerSpec, ModelSpec, TensorRole, TensorSpec } from "../types.js";

export type HfConfig = Record<string, unknown>;

const POSITIVE_LIMITS = new Set<LimitName>(["layers", "hidden", "vocab", "heads"]);

/** Reads HF config fields and collects every missing one, so the error names them all at once. */
export class ConfigReader {
  readonly missing: string[] = [];
  constructor(
    readonly config: HfConfig,
    readonly label: string,
  ) {}

  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }

  /** A required whole number (or one of several alias keys), within its limit (lib/calc/limits.ts). */
  int(...keys: string[]): number {
    for (const k of keys) {
      const v = this.config[k];
      if (v === undefined || v === null) continue;
      return this.checkedInt(k, v);
    }
    this.missing.push(keys[0]);
    return 0;
  }

  /** An optional whole number within its limit; absent (or null) gives the fallback. */
  optInt(key: string, fallback: number): number;
  optInt(key: string, fallback?: undefined): number | undefined;
  optInt(key: string, fallback?: number): number | undefined {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    return this.checkedInt(key, v);
  }

  /**
   * Sizes are whole numbers ≥ 0; layer, width, vocabulary and head counts are ≥ 1 (a model with 0 of them cannot
   * run); every size is bounded (limitForKey), so no config can make planning allocate or loop without bound.
   */
  private checkedInt(key: string, v: unknown): number {
    const limit = limitForKey(key);
    const min = POSITIVE_LIMITS.has(limit) ? 1 : 0;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      throw new InputError(`${this.label}: field "${key}" must be a whole number ≥ ${min}, got ${JSON.stringify(v)}`);
    }
    if (v > LIMITS[limit].max) throw new InputError(`${this.label}: field "${key}" is ${v}, too large (${limitReason(limit)})`);
    return v;
  }

  optBool(key: string, fallback: boolean): boolean {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") throw new InputError(`${this.label}: field "${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  optString(key: string): string | undefined {
    const v = this.config[key];
    return typeof v === "string" ? v : undefined;
  }

  optArray<T = unknown>(key: string): T[] | undefined {
    const v = this.config[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw new InputError(`${this.label}: field "${key}" must be a list, got ${JSON.stringify(v)}`);
    return v as T[];
  }

  /** The five fields every decoder config has (missing ones are collected like any other). */
  decoderDims(): { hidden: number; nLayers: number; nHeads: number; intermediate: number; vocab: number } {
    return {
      hidden: this.int("hidden_size"),
      nLayers: this.int("num_hidden_layers"),
      nHeads: this.int("num_attention_heads"),
      intermediate: this.int("intermediate_size"),
      vocab: this.int("vocab_size"),
    };
  }

  /** Throws one InputError naming every required field that was missing. */
  done(): void {
    if (this.missing.length) {
      throw new InputError(`${this.label}: config.json is missing required field(s): ${[...new Set(this.missing)].join(", ")}`);
    }
  }
}

export function tensor(name: string, shape: number[], role: TensorRole): TensorSpec {
  return { name, shape, role };
}

/** Standard q/k/v/o projections (+ optional biases), llama.cpp names attn_q/attn_k/attn_v/attn_output. */
export function attentionTensors(
  i: number,
  o: { hidden: number; nHeads: number; nKvHeads: number; headDimK: number; headDimV?: number; qkvBias?: boolean; oBias?: boolean; qkNorm?: boolean },
): TensorSpec[] {
  const hdv = o.headDimV ?? o.headDimK;
  const b = `blk.${i}.`;
  const t = [
    tensor(b + "attn_q", [o.hidden, o.nHeads * o.headDimK], "attention"),
    tensor(b + "attn_k", [o.hidden, o.nKvHeads * o.headDimK], "attention"),
    tensor(b + "attn_v", [o.hidden, o.nKvHeads * hdv], "attention"),
    tensor(b + "attn_output", [o.nHeads * hdv, o.hidden], "attention"),
  ];
  if (o.qkvBias) {
    t.push(
      tensor(b + "attn_q.bias", [o.nHeads * o.headDimK], "norm"),
      tensor(b + "attn_k.bias", [o.nKvHeads * o.headDimK], "norm"),
      tensor(b + "attn_v.bias", [o.nKvHeads * hdv], "norm"),
    );
  }
  if (o.oBias) t.push(tensor(b + "attn_output.bias", [o.hidden], "norm"));
  if (o.qkNorm) t.push(tensor(b + "attn_q_norm", [o.headDimK], "norm"), tensor(b + "attn_k_norm", [o.headDimK], "norm"));
  return t;
}

/**
 * The GPT-2-style pre-LayerNorm block (GPT-2, GPT-BigCode, GPT-NeoX): biased LayerNorms, a fused QKV projection of
 * `qkvWidth` outputs and an output projection (biased unless `attnBias` is false), an ungated biased MLP.
 */
export function biasedFusedBlockTensors(i: number, hidden: number, qkvWidth: number, inner: number, attnBias = true): TensorSpec[] {
  const b = `blk.${i}.`;
  const t = [
    normTensor(b + "attn_norm", hidden),
    normTensor(b + "attn_norm.bias", hidden),
    tensor(b + "attn_qkv", [hidden, qkvWidth], "attention"),
    tensor(b + "attn_output", [hidden, hidden], "attention"),
  ];
  if (attnBias) t.push(normTensor(b + "attn_qkv.bias", qkvWidth), normTensor(b + "attn_output.bias", hidden));
  t.push(
    normTensor(b + "ffn_norm", hidden),
    normTensor(b + "ffn_norm.bias", hidden),
    tensor(b + "ffn_up", [hidden, inner], "ffn"),
    normTensor(b + "ffn_up.bias", inner),
    tensor(b + "ffn_down", [inner, hidden], "ffn"),
    normTensor(b + "ffn_down.bias", hidden),
  );
  return t;
}

/** Gated MLP (SwiGLU/GeGLU): ffn_gate, ffn_up, ffn_down. */
export function gatedFfnTensors(i: number, hidden: number, intermediate: number, role: TensorRole = "ffn", suffix = ""): TensorSpec[] {
  const b = `blk.${i}.`;
  return [
    tensor(`${b}ffn_gate${suffix}`, [hidden, intermediate], role),
    tensor(`${b}ffn_up${suffix}`, [hidden, intermediate], role),
    tensor(`${b}ffn_down${suffix}`, [intermediate, hidden], role),
  ];
}

/** Routed experts stored as 3-D tensors (ffn_*_exps), plus the router (ffn_gate_inp). */
export function moeTensors(i: number, hidden: number, expertIntermediate: number, experts: number): TensorSpec[] {
  const b = `blk.${i}.`;
  return [
    tensor(b + "ffn_gate_inp", [hidden, experts], "router"),
    tensor(b + "ffn_gate_exps", [hidden, expertIntermediate, experts], "expert"),
    tensor(b + "ffn_up_exps", [hidden, expertIntermediate, experts], "expert"),
    tensor(b + "ffn_down_exps", [expertIntermediate, hidden, experts], "expert"),
  ];
}

export function normTensor(name: string, size: number): TensorSpec {
  return tensor(name, [size], "norm");
}

/** token_embd, output_norm and (when untied) output. */
export function globalTensors(o: { vocab: number; hidden: number; tied: boolean; normBias?: boolean }): TensorSpec[] {
  const t = [tensor("token_embd", [o.hidden, o.vocab], "embedding"), normTensor("output_norm", o.hidden)];
  if (o.normBias) t.push(normTensor("output_norm.bias", o.hidden));
  if (!o.tied) t.push(tensor("output", [o.hidden, o.vocab], "lm_head"));
  return t;
}

export function fullAttention(nKvHeads: number, headDimK: number, headDimV = headDimK): CacheSpec {
  return { kind: "full", nKvHeads, headDimK, headDimV };
}

export function slidingAttention(nKvHeads: number, headDimK: number, window: number, headDimV = headDimK): CacheSpec {
  return { kind: "sliding", nKvHeads, headDimK, headDimV, window };
}

export function layer(index: number, kind: string, cache: CacheSpec, tensors: TensorSpec[], moe?: LayerSpec["moe"]): LayerSpec {
  return moe ? { index, kind, cache, tensors, moe } : { index, kind, cache, tensors };
}

export function dtypeOf(config: HfConfig): string {
  const d = (config.torch_dtype ?? config.dtype) as string | undefined;
  return typeof d === "string" ? d : "bfloat16";
}

export function finishModel(m: Omit<ModelSpec, "notes"> & { notes?: string[] }): ModelSpec {
  return { ...m, notes: m.notes ?? [] };
}
