// vLLM engine plugin. Its rules mirror vLLM's own source, one module per vLLM file: kv-cache-interface.ts (per-kind
// page sizes, blocks per request), kv-cache-utils.ts (grouping, block counts, the printed report), worker.ts (start-up
// accounting, non-torch memory), gpu-model-runner.ts (the profile run), sampler.ts (the sampler warm-up),
// weights.ts + rotary-embedding.ts (weights per rank), pp-stages.ts (pipeline stages), arg-utils.ts (defaults),
// releases.ts (version gates, the default release), measured.ts (what vLLM measures, from derivation logs);
// memory.ts compiles them for a deployment; args.ts and parse.ts are its command lines and logs; speed.ts its speed part.
import type { EnginePlugin } from "../engine-contract.js";
import { VLLM_DEFAULT_GPU_MEMORY_UTILIZATION } from "./arg-utils.js";
import { buildVllmServeArgs, vllmExport, vllmPipelineCommands } from "./args.js";
import { compileVllm, fitVllm } from "./memory.js";
import { checkVllmDeployment, vllmContextRefusal } from "./parallel.js";
import { parseVllmLog } from "./parse.js";
import { VLLM_KERNELS } from "./speed.js";

export { buildVllmServeArgs } from "./args.js";
export type { VllmServeOptions } from "./args.js";
export { parseVllmLog, parseVllmMetrics } from "./parse.js";
export type { VllmLogFacts, VllmMetrics, PromSample } from "./parse.js";
export { vllmKvFromBudget } from "./kv-cache-utils.js";
export type { VllmKvResult } from "./kv-cache-utils.js";
export { vllmStartup, vllmNonTorch } from "./worker.js";
export { vllmProfilePeak } from "./gpu-model-runner.js";
export { ropeCacheBytes } from "./rotary-embedding.js";
export { samplerWarmup } from "./sampler.js";
export { NON_TORCH_H100_GIB, TORCH_WORKSPACE_GIB, FORWARD_RESIDUALS, CUDA_GRAPH_ESTIMATE_GIB } from "./measured.js";
export type { StartupAccounting } from "./worker.js";
export { vllmWeightsPerRank, vllmOffloadedPerRank } from "./weights.js";
export { vllmOffloadSegments } from "./offload.js";
export { ppStageLayers } from "./pp-stages.js";
export { checkVllmTensorParallel } from "./parallel.js";
export { vllmSchedulerDefaults, vllmDefaultBatchedTokens } from "./arg-utils.js";
export { reportsConcurrencyTokens, reservesNullBlock, subtractsCudaGraphEstimate, vllmInFlightTokens, vllmAtLeast, vllmRelease, samplerPath, VLLM_DEFAULT_RELEASE } from "./releases.js";

export const manifest: EnginePlugin = {
  kind: "engine",
  name: "engine-vllm",
  version: "1.0.0",
  description: "vLLM: paged KV cache and start-up accounting, `vllm serve` arguments, start-up log facts (weights, KV budget, KV tokens, concurrency, CUDA graphs) and /metrics",
  id: "vllm",
  label: "vLLM",
  aliases: [],
  loadsVision: true,
  defaults: { kvDtype: "f16" },
  compile: compileVllm,
  checkDeployment: checkVllmDeployment,
  contextRefusal: vllmContextRefusal,
  fit: fitVllm,
  // No vLLM speed result kept: assumptions, said in each prediction's basis, until runs calibrate them.
  speed: VLLM_KERNELS,
  // vLLM takes gpu_memory_utilization of the device (CacheConfig default 0.9); the rest is never used.
  usableBytes: (memoryBytes, dep) => memoryBytes * (dep.options?.gpuMemoryUtilization ?? VLLM_DEFAULT_GPU_MEMORY_UTILIZATION),
  defaultFor: ["cuda", "rocm"],
  pipelineOrder: (devices) => devices,
  embedding: { home: "first-stage" },
  pipelineCommands: { key: "vllm", build: vllmPipelineCommands },
  exportCommands: vllmExport,
  launch: {
    binary: "vllm",
    modelFile: "hf",
    mode: "server",
    args: (i) => buildVllmServeArgs(i.modelRef, i.dep, { host: i.listen, port: i.port }),
    request: (i) => ({ path: "/v1/completions", json: { model: i.modelRef, prompt: i.prompt ?? "hello ".repeat(i.promptTokens ?? 8), max_tokens: i.gen, temperature: 0 } }),
    // vLLM sizes its KV cache from the memory left after profiling ("Available KV cache memory"): that is its KV actual.
    actuals(log) {
      const f = parseVllmLog(log);
      return { weightsBytes: f.weightsBytes, kvCacheBytes: f.availableKvBytes };
    },
  },
};
