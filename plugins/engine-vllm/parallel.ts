// What vLLM's config checks refuse before it loads anything: tensor-parallel sizes that do not split the heads, and a
// max_model_len past the model's derived limit. Messages are vLLM's own, so a user can search for them.
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
  // vllm/config/model.py ModelConfig.verify_with_parallel_config, verbatim.
  if (model.nHeads % tp !== 0) throw new InputError(`vLLM refuses --tp ${tp}: Total number of attention heads (${model.nHeads}) must be divisible by tensor parallel size (${tp}).`);
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

/**
 * vllm/config/model.py _get_and_verify_max_len: a max_model_len over the length derived from the config (here
 * max_position_embeddings, with rope scaling already applied by the family reader) raises this ValueError unless
 * VLLM_ALLOW_LONG_MAX_MODEL_LEN=1; the wording is vLLM's (the tokenizer's model_max_length is not read here).
 */
export function vllmContextRefusal(model: ModelSpec, context: number): string | undefined {
  if (context <= model.maxContext) return undefined;
  return `vLLM refuses --context ${context}: User-specified max_model_len (${context}) is greater than the derived max_model_len (max_position_embeddings=${model.maxContext} or model_max_length=None in model's config.json). To allow overriding this maximum, set the env var VLLM_ALLOW_LONG_MAX_MODEL_LEN=1.`;
}
