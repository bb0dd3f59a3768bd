// Cross-attention to an encoder output: a fixed `encoderTokens` per sequence, whatever the decoder context.
import { NO_STATE } from "./kinds.js";
import type { CacheKindRules, SpecOf } from "./kinds.js";

export type CrossAttention = SpecOf<"cross">;

export const crossRules: CacheKindRules<"cross"> = {
  kind: "cross",
  kvElems: (c) => ({ k: c.nKvHeads * c.headDimK, v: c.nKvHeads * c.headDimV }),
  tokensKept: (c) => c.encoderTokens,
  stateElems: () => NO_STATE,
  // The speed model counts decoder self-attention only.
  attentionFlops: () => 0,
};
