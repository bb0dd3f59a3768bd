// Pipeline stages: vllm/distributed/utils.py get_pp_indices — an even split, the remainder going to the stages
// before the last — and what each stage holds beyond its layers at start-up. Every stage's workers profile their own
// memory (Worker.determine_available_memory) and get_kv_cache_configs takes the fewest blocks over workers, so the
// stage with the least KV budget binds: usually the last one, which alone loads the lm_head and warms up the sampler
// (GPUModelRunner.profile_run: "if get_pp_group().is_last_rank"). vLLM prints "Available KV cache memory" for one
// worker only (PP0's in the 0.19 logs), so that printed budget must not stand for the other stages.
import type { DeploymentShape, ModelSpec } from "../../lib/calc/index.js";
import { modelDtypeBytes } from "./arg-utils.js";

export function ppStageLayers(nLayers: number, pp: number): number[][] {
  const sizes = new Array<number>(pp).fill(Math.floor(nLayers / pp));
  const rem = nLayers % pp;
  for (let i = 2; i < rem + 2; i++) sizes[pp - i] += 1;
  const out: number[][] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(Array.from({ length: s }, (_, k) => start + k));
    start += s;
  }
  return out;
}

/** The stage of every layer (layer index → stage). */
export function stageOfLayer(stages: number[][], nLayers: number): Int32Array {
  const of = new Int32Array(nLayers);
  stages.forEach((s, k) => {
    for (const i of s) of[i] = k;
  });
  return of;
}

/**
 * Stages after the first receive the previous stage's activations: GPUModelRunner._dummy_run allocates
 * model.make_empty_intermediate_tensors(batch_size=max_num_tokens) once (gpu_model_runner.py l. 5448 at v0.19.0),
 * hidden_states and residual of max_num_batched_tokens × hidden each, in the model dtype, and keeps them.
 */
export function intermediateTensorBytes(model: ModelSpec, dep: DeploymentShape, tokens: number, stage: number): number {
  return stage > 0 ? 2 * tokens * model.hiddenSize * modelDtypeBytes(dep) : 0;
}
