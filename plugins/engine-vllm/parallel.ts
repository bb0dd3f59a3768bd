// Which tensor-parallel sizes vLLM accepts for a model.
import { InputError } from "../../lib/calc/index.js";
import type { Deployment, ModelSpec } from "../../lib/calc/index.js";

/**
 * vLLM refuses a TP size that does not split the heads: ModelConfig.verify_with_parallel_config (vllm/config/model.py)
 * needs num_attention_heads % tp == 0, and QKVParallelLinear (model_executor/layers/linear.py) divides the KV heads
 * over the ranks when tp < kv_heads and replicates them when tp >= kv_heads, each with an exact divide(): so
 * kv_heads % tp == 0, or tp % kv_heads == 0 (Phi-4's 10 KV heads at TP 4 fail that assert: vllm-project/vllm#16021,
 * Phi-3-medium's: #5951).
 */
export function checkVllmTensorParallel(model: ModelSpec, tp: number): void {
  if (tp === 1) return;
  if (model.nHeads % tp !== 0) throw new InputError(`vLLM needs the ${model.nHeads} attention heads divisible by --tp ${tp}`);
  const kvHeads = new Set<number>();
  for (const l of model.layers) if ("nKvHeads" in l.cache) kvHeads.add(l.cache.nKvHeads);
  for (const kv of kvHeads) {
    if (tp < kv ? kv % tp !== 0 : tp % kv !== 0) {
      throw new InputError(`vLLM cannot split the ${kv} KV heads of ${model.id} over --tp ${tp}: it needs ${tp < kv ? "the KV heads divisible by TP" : "TP divisible by the KV heads"}`);
    }
  }
}

export function checkVllmDeployment(model: ModelSpec, dep: Deployment): void {
  checkVllmTensorParallel(model, dep.tp);
}
