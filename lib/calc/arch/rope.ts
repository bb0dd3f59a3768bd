// The rotary position embeddings (RoPE) a model's attention layers use, read once from its HF config: rope_scaling
// (transformers v4) or rope_parameters (v5, optionally one per layer type), partial_rotary_factor / rotary_pct, the
// head size of the layers' caches. Families do not repeat this; engines decide what a RoPE costs them.
import type { CacheSpec, ModelSpec, RopeSpec } from "../types.js";
import type { HfConfig } from "./common.js";

/** Families whose attention has no rotary embedding (learned or ALiBi positions, or no attention at all). */
const NO_ROPE = new Set(["gpt2", "opt", "gpt_bigcode", "mamba", "mamba2", "jamba", "nemotron-h"]);

/**
 * transformers configuration_gemma3.py Gemma3TextConfig: rope_local_base_freq defaults to 10000.0, and the sliding
 * layers use a default RoPE with it (vLLM models/gemma3.py Gemma3Attention: "Local attention. Override the values in
 * config.json"), a second table beside the global layers' scaled one.
 */
const GEMMA3_LOCAL_THETA = 10000;

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): HfConfig | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as HfConfig) : undefined);

function headDimOf(c: CacheSpec): number | undefined {
  if (c.kind === "full" || c.kind === "sliding" || c.kind === "chunked" || c.kind === "cross") return c.headDimK;
  if (c.kind === "mla") return c.ropeDim; // DeepSeek MLA ropes only the qk_rope_head_dim part (get_rope(qk_rope_head_dim, …))
  return undefined;
}

function spec(headDim: number, partial: number, maxPositions: number, params: HfConfig | undefined, theta: number | undefined): RopeSpec {
  const p = params ?? {};
  const own = num(p.partial_rotary_factor);
  const type = typeof p.rope_type === "string" ? p.rope_type : typeof p.type === "string" ? p.type : "default";
  const s: RopeSpec = { headDim, rotaryDim: Math.trunc(headDim * (own ?? partial)), maxPositions, type: type === "mrope" ? "default" : type };
  const t = num(p.rope_theta) ?? theta;
  if (t !== undefined) s.theta = t;
  const factor = num(p.factor);
  if (factor !== undefined) s.factor = factor;
  const orig = num(p.original_max_position_embeddings);
  if (orig !== undefined) s.originalMaxPositions = orig;
  if (p.mrope_section !== undefined || type === "mrope") s.mrope = true;
  return s;
}

/** The distinct RoPEs of `model` (built from `config`, the text config of a multimodal one); undefined when it has none. */
export function ropeOf(model: ModelSpec, config: HfConfig): RopeSpec[] | undefined {
  if (NO_ROPE.has(model.family) || config.alibi === true || config.position_embedding_type === "alibi") return undefined;
  const sliding = model.layers.find((l) => l.cache.kind === "sliding")?.cache;
  const global = model.layers.find((l) => l.cache.kind !== "sliding" && headDimOf(l.cache) !== undefined)?.cache;
  const headGlobal = global ? headDimOf(global) : undefined;
  const headSliding = sliding ? headDimOf(sliding) : undefined;
  const head = headGlobal ?? headSliding;
  if (head === undefined) return undefined;
  const rotaryDim = num(config.rotary_dim);
  const partial = num(config.partial_rotary_factor) ?? num(config.rotary_pct) ?? (rotaryDim !== undefined ? rotaryDim / head : 1);
  const theta = num(config.rope_theta);
  const params = obj(config.rope_parameters) ?? obj(config.rope_scaling);
  const out: RopeSpec[] = [];
  const perType = params && (obj(params.full_attention) || obj(params.sliding_attention));
  if (perType) {
    // transformers v5: one parameter set per layer type.
    if (headGlobal !== undefined) out.push(spec(headGlobal, partial, model.maxContext, obj(params!.full_attention), theta));
    if (headSliding !== undefined) out.push(spec(headSliding, partial, model.maxContext, obj(params!.sliding_attention), theta));
  } else {
    if (headGlobal !== undefined || !sliding) out.push(spec(head, partial, model.maxContext, params, theta));
    const local = num(config.rope_local_base_freq) ?? (model.family === "gemma3" ? GEMMA3_LOCAL_THETA : undefined);
    if (headSliding !== undefined && local !== undefined) out.push(spec(headSliding, partial, model.maxContext, { rope_type: "default" }, local));
    else if (headSliding !== undefined && headGlobal === undefined) out.push(spec(headSliding, partial, model.maxContext, params, theta));
  }
  const seen = new Set<string>();
  return out.filter((r) => {
    const k = JSON.stringify(r);
    return seen.has(k) ? false : (seen.add(k), true);
  });
}
