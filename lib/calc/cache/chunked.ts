// Chunked local attention (Llama 4 iRoPE): tokens attend within aligned chunks of `chunk` tokens, so at most one
// chunk stays needed (vLLM ChunkedLocalAttentionSpec).
import { NO_STATE } from "./kinds.js";
import type { CacheKindRules, SpecOf } from "./kinds.js";

export type ChunkedLocal = SpecOf<"chunked">;

export function chunkedLocal(nKvHeads: number, headDimK: number, chunk: number, headDimV = headDimK): ChunkedLocal {
  return { kind: "chunked", nKvHeads, headDimK, headDimV, chunk };
}

export const chunkedRules: CacheKindRules<"chunked"> = {
  kind: "chunked",
  kvElems: (c) => ({ k: c.nKvHeads * c.headDimK, v: c.nKvHeads * c.headDimV }),
  tokensKept: (c, context) => Math.min(context, c.chunk),
  stateElems: () => NO_STATE,
  attentionFlops: (c, nHeads, context) => 2 * Math.min(context, c.chunk) * nHeads * (c.headDimK + c.headDimV),
};
