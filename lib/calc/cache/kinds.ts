// The cache kinds a layer can have (CacheSpec in ../types.ts) and what every kind module answers. The model is vLLM's
// vllm/v1/kv_cache_interface.py: one spec per kind, each knowing what one token (or one sequence) costs and how many
// tokens it keeps. Engines add their own paging, padding and rounding on top and never restate these rules.
import type { CacheKind, CacheSpec } from "../types.js";

/**
 * The one numbering of cache kinds, for flat per-layer tables (Uint8Array). An engine that sorts layers into caches
 * of its own (llama.cpp's base, SWA and recurrent memories) names those caches itself and never reuses these codes.
 */
export const CACHE_CODE = { none: 0, full: 1, mla: 2, sliding: 3, chunked: 4, cross: 5, recurrent: 6 } as const satisfies Record<CacheKind, number>;
export type CacheCode = (typeof CACHE_CODE)[CacheKind];

export interface KvElems {
  k: number;
  v: number;
}

/** How an engine stores an MLA layer: the compressed latent, or keys and values expanded per head (see mla.ts). */
export type MlaMode = "latent" | "expanded";

export type SpecOf<K extends CacheKind> = Extract<CacheSpec, { kind: K }>;

/** What each kind module answers about one layer. Element counts; the engine applies dtype, sharding and rounding. */
export interface CacheKindRules<K extends CacheKind> {
  kind: K;
  /** K and V elements one token adds (all KV heads of the layer); zero for kinds that keep per-sequence state. */
  kvElems(c: SpecOf<K>, mla: MlaMode): KvElems;
  /** Tokens the layer keeps for one sequence of `context` tokens, before any engine rounding. */
  tokensKept(c: SpecOf<K>, context: number): number;
  /** Elements of per-sequence state (recurrent kinds): a convolution window and a state matrix. */
  stateElems(c: SpecOf<K>): { conv: number; state: number };
  /** Multiply-accumulate FLOPs (2 per MAC) of one token attending to `context` earlier tokens; `nHeads` query heads. */
  attentionFlops(c: SpecOf<K>, nHeads: number, context: number): number;
}

export const NO_STATE = Object.freeze({ conv: 0, state: 0 });
export const NO_KV: KvElems = Object.freeze({ k: 0, v: 0 });
