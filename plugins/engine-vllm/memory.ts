// vLLM's memory for a deployment, compiled once per model and shape (the release of EngineOptions.vllmVersion, else
// releases.ts VLLM_DEFAULT_RELEASE): the requests' blocks in each KV cache group (kv-cache-utils.ts), the profile-run
// peak (gpu-model-runner.ts) and non-torch memory (worker.ts), the weights per rank (weights.ts), and `hwledger fit`.
import { InputError } from "../../lib/calc/index.js";
import type { Deployment, DeploymentShape, EngineTable, FitBudget, FitResult, ModelSpec } from "../../lib/calc/index.js";
import { VLLM_DEFAULT_GPU_MEMORY_UTILIZATION, effectiveOptions } from "./arg-utils.js";
import { requestBlocks } from "./kv-cache-interface.js";
import { compileLayout, inFlightTokens, kvFromBudget } from "./kv-cache-utils.js";
import { layerWidths, vllmProfilePeak } from "./gpu-model-runner.js";
import { checkVllmTensorParallel } from "./parallel.js";
import { ppStageLayers } from "./pp-stages.js";
import { vllmNonTorch, vllmStartup } from "./worker.js";
import { vllmWeightAdjustment, vllmWeightsPerRank } from "./weights.js";

const GIB = 1024 ** 3;

export function compileVllm(model: ModelSpec, dep: DeploymentShape): EngineTable {
  const weightAdjustment = vllmWeightAdjustment(model, dep);
  const l = compileLayout(model, dep);
  const mnbt = inFlightTokens(model, dep);
  // What the requests of this deployment occupy: blocks per request × the group's pages, on each TP rank.
  const groupBlocks = (context: number) => l.groups.map((g) => requestBlocks(g, context, mnbt));
  const stages = ppStageLayers(model.layers.length, dep.pp);
  const eff = effectiveOptions(model, dep);
  const widths = layerWidths(model);
  // The rank with the largest profile peak (the last stage's sampler warm-up, as a rule) sets the per-rank figure.
  const peak = stages.map((s, i) => vllmProfilePeak(model, eff, s, i, stages.length, widths)).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const nonTorch = vllmNonTorch(dep);
  const kvHeads = (() => {
    const c = model.layers.find((x) => "nKvHeads" in x.cache)?.cache;
    return c && "nKvHeads" in c ? c.nKvHeads : 0;
  })();
  return {
    kvBytes(context, seqs) {
      let total = 0;
      for (let k = 0; k < l.groups.length; k++) total += requestBlocks(l.groups[k], context, mnbt) * l.pageSum[k];
      return total * (seqs * dep.tp);
    },
    kvPerLayer(context, seqs) {
      const out = new Array<number>(model.layers.length).fill(0);
      const blocks = groupBlocks(context);
      l.groups.forEach((g, k) => {
        const b = blocks[k] * seqs * dep.tp;
        for (const i of g.layers) out[i] = b * (l.mode === "uniform-type" ? l.pageOf.get(i)! : g.page);
      });
      return out;
    },
    kvBytesPerToken: () => l.perTokenFull * dep.tp,
    activationBytes: () => peak.bytes,
    overheadBytes: () => nonTorch.bytes,
    weightAdjustment,
    rankWeights: () => vllmWeightsPerRank(model, eff),
    cacheBasis: [`vLLM: ${l.groups.length} KV cache group(s) of ${l.minBlockSize}-token blocks (kv_cache_interface.py page_size_bytes, max_memory_usage_bytes)`],
    activationBasis: peak.basis,
    overheadBasis: nonTorch.basis,
    warnings: kvHeads && dep.tp > kvHeads ? [`vLLM replicates KV heads: tp ${dep.tp} > ${kvHeads} KV heads, each rank caches one head`] : [],
  };
}

/** `hwledger fit`: vLLM's own start-up accounting, then its block arithmetic and printed figures. */
export function fitVllm(model: ModelSpec, dep0: Deployment, budget: FitBudget): FitResult {
  checkVllmTensorParallel(model, dep0.tp);
  const dep = effectiveOptions(model, dep0, budget.gpuMemoryBytes, dep0.context);
  const l = compileLayout(model, dep);
  let avail: number[];
  const basis = [...l.notes];
  if (budget.kvBudgetBytes !== undefined) {
    avail = l.stages.map(() => budget.kvBudgetBytes!);
    basis.push("vLLM: KV budget per rank given (\"Available KV cache memory\")");
  } else {
    const util = budget.gpuMemoryUtilization ?? dep.options?.gpuMemoryUtilization ?? VLLM_DEFAULT_GPU_MEMORY_UTILIZATION;
    const s = vllmStartup(model, dep, budget.gpuMemoryBytes!, util);
    avail = s.availableBytes;
    basis.push(...s.basis);
    if (avail.some((x) => x <= 0)) throw new InputError(`vLLM would have no memory for the KV cache (available ${(Math.min(...avail) / GIB).toFixed(2)} GiB per rank): raise --gpu-memory-utilization or use more GPUs`);
  }
  const r = kvFromBudget(l, model, dep, avail);
  basis.push(`vLLM: ${l.mode} KV layout, ${l.groups.length} group(s), block size ${l.minBlockSize}; ${r.numBlocks} blocks (kv_cache_utils.py get_kv_cache_configs)`);
  return { kvCapacityTokens: r.kvCapacityTokens, maxConcurrency: r.maxConcurrency, maxContext: r.maxContext, availableKvBytes: Math.min(...avail), basis };
}
