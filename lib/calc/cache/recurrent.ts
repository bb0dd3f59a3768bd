// Recurrent state, per sequence and not per token: Mamba/Mamba2 (a convolution window and the SSM state) and linear
// attention such as the gated delta net (conv window and a recurrent matrix). vLLM MambaSpec; llama.cpp
// llama_memory_recurrent (n_embd_r, n_embd_s). The conv window counts d_conv − 1 columns, as vLLM and llama.cpp keep it.
import { NO_KV } from "./kinds.js";
import type { CacheKindRules, SpecOf } from "./kinds.js";

export type RecurrentState = SpecOf<"recurrent">;

export const recurrentRules: CacheKindRules<"recurrent"> = {
  kind: "recurrent",
  kvElems: () => NO_KV,
  tokensKept: () => 0,
  stateElems: (c) => ({ conv: c.convElems, state: c.stateElems }),
  attentionFlops: () => 0,
};

export const noneRules: CacheKindRules<"none"> = {
  kind: "none",
  kvElems: () => NO_KV,
  tokensKept: () => 0,
  stateElems: () => ({ conv: 0, state: 0 }),
  attentionFlops: () => 0,
};
