// A draft model for speculative decoding (llama.cpp -md). common/speculative.cpp common_base_params_to_speculative:
// the draft's params are a copy of the target's (n_ctx, batches, -fa, sequences) with its own -ngld (default all),
// devices and cache types (-ctkd/-ctvd, default f16). The CLI (--draft) and /what-if both ask this.
import { makeDeployment, plan } from "../../lib/calc/index.js";
import type { EngineModel, EngineOptions, ModelSpec } from "../../lib/calc/index.js";

export interface DraftBuffers {
  weightsBytes: number;
  kvBytes: number;
  computeBytes: number;
}

/** The draft's weights, KV and compute buffer beside `target`; `weights` is its file's scheme (default: its own). */
export function draftBuffers(draft: ModelSpec, target: { context: number; seqs: number; options?: EngineOptions }, llamacpp: EngineModel, weights?: string): DraftBuffers {
  const o = target.options ?? {};
  const dep = makeDeployment(draft, {
    engine: llamacpp,
    ...(weights ? { weights } : {}),
    context: target.context,
    seqs: target.seqs,
    options: { flashAttention: o.flashAttention, batch: o.batch, ubatch: o.ubatch },
  });
  const m = plan(draft, dep, llamacpp, { layers: false }).memory;
  return { weightsBytes: m.weightsBytes, kvBytes: m.kvCacheBytes, computeBytes: m.activationBytes };
}
