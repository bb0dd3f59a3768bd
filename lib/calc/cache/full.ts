// Full causal attention: every token of the context stays cached. MHA when every head has its own K/V, GQA when
// fewer KV heads serve the query heads, MQA with one (vLLM FullAttentionSpec).
import { NO_STATE } from "./kinds.js";
import type { CacheKindRules, SpecOf } from "./kinds.js";

export type FullAttention = SpecOf<"full">;

export function fullAttention(nKvHeads: number, headDimK: number, headDimV = headDimK): FullAttention {
  return { kind: "full", nKvHeads, headDimK, headDimV };
}

export const fullRules: CacheKindRules<"full"> = {
  kind: "full",
  kvElems: (c) => ({ k: c.nKvHeads * c.headDimK, v: c.nKvHeads * c.headDimV }),
  tokensKept: (_c, context) => context,
  stateElems: () => NO_STATE,
  // QKᵀ and AV over the whole context, per query head.
  attentionFlops: (c, nHeads, context) => 2 * context * nHeads * (c.headDimK + c.headDimV),
};
