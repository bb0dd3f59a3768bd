// Per-token activation widths of a model, from its tensor list (memoized per model): what one token occupies
// while it passes through the widest block. Used by the MLX and transformers activation estimates.
import type { ModelSpec } from "../types.js";
import { CACHE_CODE } from "../cache/kinds.js";
import { compileCacheTable } from "../cache/table.js";
import type { CacheTable } from "../cache/table.js";
import type { CacheResult } from "./profile.js";

export type { CacheTable };

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

export const CK = CACHE_CODE;

const tables = { latent: new WeakMap<ModelSpec, CacheTable>(), expanded: new WeakMap<ModelSpec, CacheTable>() };

export function cacheTable(model: ModelSpec, mla: "latent" | "expanded"): CacheTable {
  const hit = tables[mla].get(model);
  if (hit) return hit;
  const t = compileCacheTable(model, mla);
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
