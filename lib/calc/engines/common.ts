// Element counts per token / per sequence for each cache kind; engines apply their own dtype and rounding.
import type { CacheSpec } from "../types.js";

export interface KvElems {
  k: number;
  v: number;
}

/**
 * K and V elements one token adds to one layer. MLA: "latent" caches kv_lora_rank + rope dims as K and
 * nothing as V (vLLM MLAAttentionSpec, llama.cpp with MLA); "expanded" caches full per-head K and V
 * (transformers DeepseekV3Attention).
 */
export function kvElemsPerToken(c: CacheSpec, mla: "latent" | "expanded"): KvElems {
  switch (c.kind) {
    case "full":
    case "sliding":
    case "chunked":
    case "cross":
      return { k: c.nKvHeads * c.headDimK, v: c.nKvHeads * c.headDimV };
    case "mla":
      return mla === "latent"
        ? { k: c.kvLoraRank + c.ropeDim, v: 0 }
        : { k: c.nHeads * (c.qkNopeHeadDim + c.ropeDim), v: c.nHeads * c.vHeadDim };
    default:
      return { k: 0, v: 0 };
  }
}

/** Tokens a layer must keep for one sequence of `context` tokens, before any engine rounding. */
export function tokensKept(c: CacheSpec, context: number): number {
  switch (c.kind) {
    case "full":
    case "mla":
      return context;
    case "sliding":
      return Math.min(context, c.window + (c.sinkTokens ?? 0));
    case "chunked":
      return Math.min(context, c.chunk);
    case "cross":
      return c.encoderTokens;
    default:
      return 0;
  }
}

export function isTokenProportional(c: CacheSpec): boolean {
  return c.kind === "full" || c.kind === "mla" || c.kind === "sliding" || c.kind === "chunked";
}
