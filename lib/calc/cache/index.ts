// The cache kind modules by kind, and the questions every engine asks of a layer's CacheSpec.
import type { CacheKind, CacheSpec } from "../types.js";
import { chunkedRules } from "./chunked.js";
import { crossRules } from "./cross.js";
import { fullRules } from "./full.js";
import type { CacheKindRules, KvElems, MlaMode, SpecOf } from "./kinds.js";
import { mlaRules } from "./mla.js";
import { noneRules, recurrentRules } from "./recurrent.js";
import { slidingRules } from "./sliding.js";

export const CACHE_KINDS: { readonly [K in CacheKind]: CacheKindRules<K> } = {
  none: noneRules,
  full: fullRules,
  mla: mlaRules,
  sliding: slidingRules,
  chunked: chunkedRules,
  cross: crossRules,
  recurrent: recurrentRules,
};

function rules<K extends CacheKind>(c: SpecOf<K>): CacheKindRules<K> {
  return CACHE_KINDS[c.kind as K];
}

/** K and V elements one token adds to a layer (MLA per `mla`, see mla.ts). */
export function kvElemsPerToken(c: CacheSpec, mla: MlaMode): KvElems {
  return rules(c).kvElems(c as never, mla);
}

/** Tokens a layer keeps for one sequence of `context` tokens, before engine rounding. */
export function tokensKept(c: CacheSpec, context: number): number {
  return rules(c).tokensKept(c as never, context);
}

/** Per-sequence state elements of a recurrent layer (zero for attention kinds). */
export function stateElems(c: CacheSpec): { conv: number; state: number } {
  return rules(c).stateElems(c as never);
}

/** Attention FLOPs of one token over `context` earlier tokens in this layer. */
export function attentionFlops(c: CacheSpec, nHeads: number, context: number): number {
  return rules(c).attentionFlops(c as never, nHeads, context);
}

export { CACHE_CODE, type CacheCode, type KvElems, type MlaMode } from "./kinds.js";
export { fullAttention } from "./full.js";
export { slidingWindow, slidingSpan } from "./sliding.js";
export { chunkedLocal } from "./chunked.js";
export { latentAttention, mlaLatentElems, mlaKvElems } from "./mla.js";
