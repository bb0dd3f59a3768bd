// The worker's start-up memory accounting: vllm/v1/worker/gpu_worker.py Worker.determine_available_memory over the
// profile run (gpu-model-runner.ts) inside vllm/utils/mem_utils.py memory_profiling, per pipeline stage.
import type { DeploymentShape, Estimate, ModelSpec } from "../../lib/calc/index.js";
import { effectiveOptions } from "./arg-utils.js";
import { layerWidths, vllmProfilePeak } from "./gpu-model-runner.js";
import { cudaGraphEstimateH100, nonTorchH100 } from "./measured.js";
import { ppStageLayers } from "./pp-stages.js";
import { ceilsRequestedMemory, snapshotsAfterDistributedInit, subtractsCudaGraphEstimate, vllmAtLeast, vllmRelease } from "./releases.js";
import { vllmWeightsPerRank } from "./weights.js";

const GIB = 1024 ** 3;

/**
 * Non-torch memory that appears between the worker's first snapshot and the end of the profile run (memory_profiling
 * non_torch_increase). vLLM measures it; no formula gives it.
 * - From 0.17 (the FlashInfer all-reduce fusion workspace at TP > 1, #34299; CUDA graph profiling inside the window
 *   from 0.18, #30515): measured.ts, from the 0.19 H100 derivation logs by TP / PP.
 * - Up to 0.16: the residuals of the Qwen2-7B 0.10.1.1 A100 80GB logs (TP 1 and TP 2, utilization 0.25 and 0.5):
 *   0.17 GiB compiled (0.05 GiB eager: the T4 0.11 log), plus 0.12 GiB of NCCL communicators with peers — in 0.10
 *   gpu_worker.py init_device snapshots before init_worker_distributed_environment; from 0.11 after it (#25359), when
 *   no re-derived figure exists here.
 */
export function vllmNonTorch(dep: DeploymentShape): Estimate {
  const o = dep.options ?? {};
  if (vllmAtLeast(o.vllmVersion, 0, 17)) return nonTorchH100(dep.tp, dep.pp);
  const world = dep.tp * dep.pp;
  const base = (o.enforceEager ? 0.05 : 0.17) * GIB;
  const nccl = world > 1 ? 0.12 * GIB : 0;
  const when = snapshotsAfterDistributedInit(o.vllmVersion) ? "0.10-era figures" : "snapshot before NCCL set-up";
  return {
    bytes: base + nccl,
    basis: `estimate: non-torch increase ${((base + nccl) / GIB).toFixed(2)} GiB (CUDA modules${o.enforceEager ? ", eager" : ", compiled"}${world > 1 ? ", NCCL communicators" : ""}; ${when})`,
  };
}

export interface StartupAccounting {
  /** Per pipeline stage (each TP rank of a stage is identical). */
  requestedBytes: number;
  weightsBytes: number[];
  peakBytes: number[];
  nonTorchBytes: number;
  cudaGraphBytes: number;
  availableBytes: number[];
  basis: string[];
}

/**
 * Worker.determine_available_memory (gpu_worker.py l. 332 at v0.19.0), on every rank of every stage:
 * available = requested − (weights + torch peak increase + non-torch increase) [− CUDA graph estimate from 0.20].
 * requested = total × gpu_memory_utilization (v1/worker/utils.py request_memory; rounded up from 0.14), where total
 * is cudaMemGetInfo's total (the CUDA context predates the first snapshot and sits in the 1 − utilization margin).
 * The CUDA graph estimate is vLLM's own measurement: `cudaGraphBytes` when the caller has one (the logged
 * "Estimated CUDA graph memory"), else measured.ts's H100 median.
 */
export function vllmStartup(model: ModelSpec, dep0: DeploymentShape, gpuMemoryBytes: number, utilization: number, weightsOverride?: number, cudaGraphBytes?: number): StartupAccounting {
  const dep = effectiveOptions(model, dep0, gpuMemoryBytes);
  const o = dep.options ?? {};
  const stages = ppStageLayers(model.layers.length, dep.pp);
  const weights = weightsOverride !== undefined ? stages.map(() => weightsOverride) : vllmWeightsPerRank(model, dep);
  const nt = vllmNonTorch(dep);
  const widths = layerWidths(model);
  const peaks = stages.map((s, i) => vllmProfilePeak(model, dep, s, i, stages.length, widths));
  const product = gpuMemoryBytes * utilization;
  const requested = ceilsRequestedMemory(o.vllmVersion) ? Math.ceil(product) : product;
  const rocm = o.device?.deviceClass === "rocm";
  const graphs = subtractsCudaGraphEstimate(o.vllmVersion, o.enforceEager, rocm);
  const estimate = graphs ? (cudaGraphBytes !== undefined ? { bytes: cudaGraphBytes, basis: `given CUDA graph estimate ${(cudaGraphBytes / GIB).toFixed(2)} GiB` } : cudaGraphEstimateH100(dep.tp, dep.pp)) : undefined;
  const graphBytes = estimate?.bytes ?? 0;
  const available = stages.map((_, i) => Math.floor(requested - weights[i] - peaks[i].bytes - nt.bytes - graphBytes));
  const binding = available.indexOf(Math.min(...available));
  return {
    requestedBytes: requested,
    weightsBytes: weights,
    peakBytes: peaks.map((p) => p.bytes),
    nonTorchBytes: nt.bytes,
    cudaGraphBytes: graphBytes,
    availableBytes: available,
    basis: [
      `vLLM ${vllmRelease(o.vllmVersion)}: available KV = ${utilization} × ${(gpuMemoryBytes / GIB).toFixed(2)} GiB − weights − profile peak − non-torch${graphs ? " − CUDA graph estimate" : ""}, per rank (gpu_worker.py determine_available_memory)`,
      peaks[binding].basis,
      nt.basis,
      ...(estimate ? [`vLLM ${vllmRelease(o.vllmVersion)} subtracts its CUDA graph estimate (default from 0.20.0): ${estimate.basis}`] : []),
      ...(stages.length > 1 ? [`pipeline stage ${binding} binds (${(Math.min(...available) / GIB).toFixed(2)} GiB per rank)`] : []),
    ],
  };
}
