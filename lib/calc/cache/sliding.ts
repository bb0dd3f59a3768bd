// Sliding-window attention: a token attends to the last `window` tokens, so only those stay needed; attention sinks
// (StreamingLLM-style kept first tokens) are kept in addition (vLLM SlidingWindowSpec; sinks per llama.cpp n_swa).
import { NO_STATE } from "./kinds.js";
import type { CacheKindRules, SpecOf } from "./kinds.js";

export type SlidingWindow = SpecOf<"sliding">;

export function slidingWindow(nKvHeads: number, headDimK: number, window: number, headDimV = headDimK, sinkTokens?: number): SlidingWindow {
  return sinkTokens ? { kind: "sliding", nKvHeads, headDimK, headDimV, window, sinkTokens } : { kind: "sliding", nKvHeads, headDimK, headDimV, window };
}

/** Tokens a sliding layer needs at most: the window plus its sink tokens. */
export function slidingSpan(c: SlidingWindow): number {
  return c.window + (c.sinkTokens ?? 0);
}

export const slidingRules: CacheKindRules<"sliding"> = {
  kind: "sliding",
  kvElems: (c) => ({ k: c.nKvHeads * c.headDimK, v: c.nKvHeads * c.headDimV }),
  tokensKept: (c, context) => Math.min(context, slidingSpan(c)),
  stateElems: () => NO_STATE,
  // A token attends to at most `window` earlier tokens.
  attentionFlops: (c, nHeads, context) => 2 * Math.min(context, c.window) * nHeads * (c.headDimK + c.headDimV),
};
