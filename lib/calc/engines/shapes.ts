// Per-token activation widths of a model, from its tensor list (memoized per model): what one token occupies
// while it passes through the widest block. Used by the MLX and transformers activation estimates.
import type { ModelSpec } from "../types.js";
import { kvElemsPerToken } from "./common.js";
import type { CacheResult } from "./profile.js";

export interface ActivationWidths {
  /** Elements per token held at the peak of the widest block: residual + normed input + max(attention, MLP) outputs. */
  peakElemsPerToken: number;
  hidden: number;
  vocab: number;
}

const cache = new WeakMap<ModelSpec, ActivationWidths>();

function rows(shape: number[]): number {
  let r = 1;
  for (let i = 1; i < shape.length; i++) r *= shape[i];
  return r;
}

/**
 * Attention: outputs of every projection (q, k, v, MLA down/up, o). MLP: gate and up outputs plus their product
 * (act(gate) × up has the width of one of them); routed experts count top-k of E (each token visits k experts).
 */
export function activationWidths(model: ModelSpec): ActivationWidths {
  const hit = cache.get(model);
  if (hit) return hit;
  let widest = 0;
  for (const l of model.layers) {
    let attn = 0;
    let mlpIn = 0;
    let other = 0;
    for (const t of l.tensors) {
      if (t.shape.length < 2) continue;
      if (t.role === "attention") attn += t.shape[1];
      else if (t.role === "ffn" || t.role === "shared_expert" || t.role === "expert") {
        if (t.name.includes("down")) continue;
        const out = t.role === "expert" && l.moe ? t.shape[1] * l.moe.activeExperts : t.shape[1];
        mlpIn += out;
      } else if (t.role === "ssm") other += rows(t.shape) / (t.shape.length > 2 ? t.shape[2] : 1);
    }
    // gate+up outputs, plus their product (half of them when gated, all when a plain up projection).
    const mlp = mlpIn + mlpIn / 2;
    widest = Math.max(widest, attn, mlp, other);
  }
  const r = { peakElemsPerToken: 2 * model.hiddenSize + widest, hidden: model.hiddenSize, vocab: model.vocabSize };
  cache.set(model, r);
  return r;
}

/** Per-layer cache facts as flat arrays, so a profile's per-call loop is arithmetic only (no objects per layer). */
export interface CacheTable {
  /** 0 none, 1 full, 2 mla, 3 sliding, 4 chunked, 5 cross, 6 recurrent. */
  kind: Uint8Array;
  /** K + V elements one token adds (for the given MLA mode). */
  elems: Float64Array;
  /** sliding: window + sinks; chunked: chunk; cross: encoder tokens. */
  span: Float64Array;
  convElems: Float64Array;
  stateElems: Float64Array;
  /** Largest K + V elements per token among full/MLA layers, and one such layer's index (-1 if none). */
  maxFullElems: number;
  maxFullIndex: number;
  /**
   * One layer per group whose kept tokens are bounded (sliding, chunked, cross); a sum over them must weigh each
   * by groupCount[groupOf[i]].
   */
  bounded: Int32Array;
  /**
   * Layers with identical cache facts, so a per-call loop runs over a few groups instead of every layer:
   * `groupFirst[g]` is one layer of group g (its facts stand for all), `groupCount[g]` how many, `groupOf[i]` layer i's.
   */
  groupFirst: Int32Array;
  groupCount: Int32Array;
  groupOf: Int32Array;
}

export const CK = { none: 0, full: 1, mla: 2, sliding: 3, chunked: 4, cross: 5, recurrent: 6 } as const;

const tables = { latent: new WeakMap<ModelSpec, CacheTable>(), expanded: new WeakMap<ModelSpec, CacheTable>() };

export function cacheTable(model: ModelSpec, mla: "latent" | "expanded"): CacheTable {
  const hit = tables[mla].get(model);
  if (hit) return hit;
  const n = model.layers.length;
  const t: CacheTable = {
    kind: new Uint8Array(n), elems: new Float64Array(n), span: new Float64Array(n), convElems: new Float64Array(n), stateElems: new Float64Array(n),
    maxFullElems: 0, maxFullIndex: -1, bounded: new Int32Array(0),
    groupFirst: new Int32Array(0), groupCount: new Int32Array(0), groupOf: new Int32Array(n),
  };
  const bounded: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = model.layers[i].cache;
    t.kind[i] = CK[c.kind];
    if (c.kind === "recurrent") {
      t.convElems[i] = c.convElems;
      t.stateElems[i] = c.stateElems;
    } else if (c.kind !== "none") {
      const e = kvElemsPerToken(c, mla);
      t.elems[i] = e.k + e.v;
      if (c.kind === "sliding") t.span[i] = c.window + (c.sinkTokens ?? 0);
      else if (c.kind === "chunked") t.span[i] = c.chunk;
      else if (c.kind === "cross") t.span[i] = c.encoderTokens;
      if (c.kind === "full" || c.kind === "mla") {
        if (t.elems[i] > t.maxFullElems) {
          t.maxFullElems = t.elems[i];
          t.maxFullIndex = i;
        }
      } else bounded.push(i);
    }
  }
  t.bounded = Int32Array.from(bounded);
  const key = new Map<string, number>();
  const first: number[] = [];
  const count: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = `${t.kind[i]}|${t.elems[i]}|${t.span[i]}|${t.convElems[i]}|${t.stateElems[i]}`;
    let g = key.get(k);
    if (g === undefined) {
      key.set(k, (g = first.length));
      first.push(i);
      count.push(0);
    }
    count[g]++;
    t.groupOf[i] = g;
  }
  t.groupFirst = Int32Array.from(first);
  t.groupCount = Int32Array.from(count);
  t.bounded = Int32Array.from(bounded.filter((i) => first[t.groupOf[i]] === i));
  tables[mla].set(model, t);
  return t;
}

/** The fast path's empty per-layer rows (plan asked for totals only). */
export const NO_ROWS: number[] = [];

/**
 * A cache result from per-group bytes: per-layer rows are expanded only when read, and not kept at all when the
 * caller asked for totals (groupBytes undefined).
 */
export function groupedCacheResult(t: CacheTable, groupBytes: Float64Array | undefined, total: number, bytesPerToken: number, basis: string[]): CacheResult {
  if (!groupBytes) return { perLayer: NO_ROWS, total, bytesPerToken, basis };
  return {
    get perLayer() {
      return Array.from(t.groupOf, (g) => groupBytes[g]);
    },
    total,
    bytesPerToken,
    basis,
  };
}
