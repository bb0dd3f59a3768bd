// Multi-head latent attention (DeepSeek-V2/V3, Kimi K2). The one place that says what an MLA token costs:
//  - latent: the compressed kv_lora_rank vector plus the decoupled RoPE key, one "head", stored as K with no V —
//    vLLM MLAAttentionSpec (the same on every TP rank: the latent is not sharded), llama.cpp (llama-kv-cache.cpp
//    has_v = !hparams.is_mla()), mlx_lm deepseek_v3.py (cache.update_and_fetch(kv_latent, k_pe));
//  - expanded: per-head keys (nope + rope) and values after kv_b_proj — transformers DeepseekV2/V3Attention,
//    mlx_lm deepseek_v2.py.
import { NO_STATE } from "./kinds.js";
import type { CacheKindRules, KvElems, MlaMode, SpecOf } from "./kinds.js";

export type LatentAttention = SpecOf<"mla">;

export function latentAttention(nHeads: number, kvLoraRank: number, ropeDim: number, qkNopeHeadDim: number, vHeadDim: number): LatentAttention {
  return { kind: "mla", nHeads, kvLoraRank, ropeDim, qkNopeHeadDim, vHeadDim };
}

/** Elements of the cached latent per token: kv_lora_rank + rope dims (one row of K, no V). */
export function mlaLatentElems(c: LatentAttention): number {
  return c.kvLoraRank + c.ropeDim;
}

export function mlaKvElems(c: LatentAttention, mode: MlaMode): KvElems {
  return mode === "latent" ? { k: mlaLatentElems(c), v: 0 } : { k: c.nHeads * (c.qkNopeHeadDim + c.ropeDim), v: c.nHeads * c.vHeadDim };
}

export const mlaRules: CacheKindRules<"mla"> = {
  kind: "mla",
  kvElems: mlaKvElems,
  tokensKept: (_c, context) => context,
  stateElems: () => NO_STATE,
  // Absorbed attention over the latent: QKᵀ over kv_lora_rank + rope dims, AV over kv_lora_rank, per head.
  attentionFlops: (c, _nHeads, context) => 2 * context * c.nHeads * (c.kvLoraRank + c.ropeDim + c.kvLoraRank),
};
