// hwledger fit: KV capacity, max concurrency and max context for a per-device budget.
import type { Command } from "commander";
import { InputError, deviceCapacity, fit } from "../../lib/calc/index.js";
import type { FitResult } from "../../lib/calc/index.js";
import type { OffloadFit } from "../../plugins/engine-llamacpp/index.js";
import { engine } from "../../plugins/engines.js";
import { printJson, printLines } from "../output.js";
import { addLlamaCppOptions, devicesFromFlag, llamaCppOptions } from "./llamacpp-flags.js";
import type { LlamaCppFlags } from "./llamacpp-flags.js";
import { addDeploymentOptions, deploymentFromFlags, flagValue, loadModel, strictNumber, withCpuOffload } from "./shared.js";
import type { DeploymentFlags } from "./shared.js";

const GIB = 1024 ** 3;

interface FitFlags extends DeploymentFlags, LlamaCppFlags {
  fitTarget?: string;
  fitCtx?: string;
  kvBudgetGib?: string;
  gpuMemoryGib?: string;
  gpuMemoryUtilization?: string;
  maxNumBatchedTokens?: string;
  maxNumSeqs?: string;
  enforceEager?: boolean;
  sampler?: string;
  vllmVersion?: string;
  wiredLimitMb?: string;
  cpuOffloadGb?: string;
  ollamaVersion?: string;
  vllmEntryPoint?: string;
  device?: string;
}

export function registerFit(program: Command): void {
  const cmd = program.command("fit").description("how much KV cache, concurrency and context fit a per-device budget");
  addLlamaCppOptions(addDeploymentOptions(cmd, false))
    .option("--fit-target <MiB[,MiB…]>", "llama.cpp -fitt: free memory each GPU keeps (default 1024 MiB, common/common.h)")
    .option("--fit-ctx <n>", "llama.cpp -fitc: the smallest context its fit reduces to (default 4096)")
    .option("--kv-budget-gib <x>", "KV cache budget per device (vLLM's 'Available KV cache memory')")
    .option("--device <id[,id…]>", "catalog device (see `hwledger devices`; llama.cpp takes several GPUs in order): its memory as the engine sees it (79.19 GiB for h100-sxm-80gb) and the defaults that follow that GPU")
    .option("--gpu-memory-gib <x>", "GPU memory per device as torch sees it (e.g. 79.19 for an H100 80GB); overrides --device's")
    .option("--gpu-memory-utilization <u>", "vLLM --gpu-memory-utilization (default: the engine's own, 0.9 in vLLM; llama.cpp has no cap)")
    .option("--max-num-batched-tokens <n>", "vLLM --max-num-batched-tokens")
    .option("--max-num-seqs <n>", "vLLM --max-num-seqs")
    .option("--enforce-eager", "vLLM --enforce-eager (no CUDA graphs)")
    .option("--sampler <flashinfer|native>", "vLLM VLLM_USE_FLASHINFER_SAMPLER: flashinfer (opted in) or native; the default follows the release")
    .option("--cpu-offload-gb <gib>", "vLLM --cpu-offload-gb: GiB of weights per GPU kept in host memory (the KV budget grows by as much)")
    .option("--wired-limit-mb <n>", "Apple: the GPU working set set with sudo sysctl iogpu.wired_limit_mb=N (default: macOS's 2/3 or 3/4 of RAM)")
    .option("--ollama-version <v>", "Ollama release whose defaults and placement to follow (default 0.12.10; e.g. 0.5.4, 0.9.0)")
    .option("--vllm-version <v>", "vLLM release whose start-up rules to follow (default 0.19.0; e.g. 0.21.0, 0.25.1)")
    .option("--vllm-entry-point <serve|llm>", "vLLM entry point whose batch defaults apply: `vllm serve` (default) or the offline LLM class")
    .action(async (flags: FitFlags) => {
      if (flags.kvBudgetGib !== undefined && flags.gpuMemoryGib !== undefined) throw new InputError("give one of --kv-budget-gib and --gpu-memory-gib, not both");
      const { device, gpus } = devicesFromFlag(flags.device, flags.wiredLimitMb);
      if (flags.kvBudgetGib === undefined && flags.gpuMemoryGib === undefined && !device) throw new InputError("give --device, --gpu-memory-gib or --kv-budget-gib");
      const { model } = await loadModel(flags);
      const dep = withCpuOffload(deploymentFromFlags(model, flags, flags.context ?? String(model.maxContext), device), flags.cpuOffloadGb);
      dep.options = {
        ...dep.options,
        ...(flags.maxNumBatchedTokens !== undefined ? { maxNumBatchedTokens: flagValue("tokens", flags.maxNumBatchedTokens, "--max-num-batched-tokens") } : {}),
        ...(flags.maxNumSeqs !== undefined ? { maxNumSeqs: flagValue("seqs", flags.maxNumSeqs, "--max-num-seqs") } : {}),
        ...(flags.enforceEager ? { enforceEager: true } : {}),
        ...(flags.sampler ? { sampler: sampler(flags.sampler) } : {}),
        ...(flags.vllmVersion !== undefined ? { vllmVersion: vllmVersion(flags.vllmVersion) } : {}),
        ...(flags.ollamaVersion !== undefined ? { ollamaVersion: ollamaVersion(flags.ollamaVersion) } : {}),
        ...(flags.vllmEntryPoint !== undefined ? { vllmEntryPoint: entryPoint(flags.vllmEntryPoint) } : {}),
        ...(gpus ? { gpus } : {}),
        ...(await llamaCppOptions(flags, dep.engine, dep)),
      };
      const util = flags.gpuMemoryUtilization !== undefined ? flagValue("fraction", flags.gpuMemoryUtilization, "--gpu-memory-utilization") : undefined;
      const e = engine(dep.engine);
      let r: FitResult & { offload?: OffloadFit };
      if (device && flags.gpuMemoryGib === undefined && flags.kvBudgetGib === undefined) {
        // The device's answer, the same function the pages, dispatch and reports ask; where its memory figure comes from first.
        const c = deviceCapacity(model, dep, e, device, util);
        if (c.reason) throw new InputError(c.reason);
        r = { ...c, basis: [`device: ${device.memoryBasis}`, ...c.basis] };
      } else {
        const budget = flags.kvBudgetGib !== undefined
          ? { kvBudgetBytes: flagValue("gib", flags.kvBudgetGib, "--kv-budget-gib") * GIB }
          : { gpuMemoryBytes: flagValue("gib", flags.gpuMemoryGib!, "--gpu-memory-gib") * GIB, ...(util !== undefined ? { gpuMemoryUtilization: util } : {}) };
        r = fit(model, dep, e, budget);
      }
      // llama.cpp's own fit (common/fit.cpp): the largest -ngl and context that keep each GPU's target free.
      const gpuMemoryBytes = flags.gpuMemoryGib !== undefined ? flagValue("gib", flags.gpuMemoryGib, "--gpu-memory-gib") * GIB : device?.memoryBytes;
      if (dep.engine === "llama.cpp" && gpuMemoryBytes !== undefined && flags.kvBudgetGib === undefined) {
        const { fitOffload } = await import("../../plugins/engine-llamacpp/index.js");
        const free = gpus ? gpus.map((g) => g.memoryBytes) : [gpuMemoryBytes];
        const targets = flags.fitTarget?.split(",").map((v) => strictNumber(v, "--fit-target") * 1024 * 1024);
        if (targets && targets.some((t) => t < 0)) throw new InputError(`--fit-target must be MiB ≥ 0, got "${flags.fitTarget}"`);
        const marginBytes = targets ? free.map((_, i) => targets[Math.min(i, targets.length - 1)]) : undefined;
        r = { ...r, offload: fitOffload(model, dep, { freeBytes: free, marginBytes, contextFixed: flags.context !== undefined, minContext: flags.fitCtx !== undefined ? flagValue("tokens", flags.fitCtx, "--fit-ctx") : undefined }) };
      }
      if (flags.json) return printJson(r);
      const lines = [`${model.id} on ${dep.engine}: KV capacity ${r.kvCapacityTokens} tokens, max concurrency ${r.maxConcurrency.toFixed(2)}x for ${dep.context} tokens, max context ${r.maxContext}`];
      const o = r.offload;
      if (o) lines.push(`llama.cpp --fit: -ngl ${o.gpuLayers} of ${o.layerSlots} slots, context ${o.context}${o.tensorSplit ? `, -ts ${o.tensorSplit.join(",")}` : ""}${o.fits ? "" : " (does not fit even so)"}`);
      printLines(lines);
    });
}

/** An Ollama release as MAJOR.MINOR[.PATCH] (its tags: v0.12.10). */
function ollamaVersion(v: string): string {
  if (!/^v?\d{1,4}\.\d{1,4}(\.\d{1,4})?$/.test(v)) throw new InputError(`--ollama-version must look like 0.12.10 (MAJOR.MINOR[.PATCH]), got ${JSON.stringify(v)}`);
  return v.replace(/^v/, "");
}

/** A vLLM release as MAJOR.MINOR[.PATCH[.POST]] (the form its version strings take, e.g. 0.25.1, 0.10.1.1). */
function vllmVersion(v: string): string {
  if (!/^\d{1,4}\.\d{1,4}(\.\d{1,4}){0,2}$/.test(v)) throw new InputError(`--vllm-version must look like 0.25.1 (MAJOR.MINOR[.PATCH]), got ${JSON.stringify(v)}`);
  return v;
}

function entryPoint(v: string): "serve" | "llm" {
  if (v !== "serve" && v !== "llm") throw new InputError(`--vllm-entry-point must be serve or llm, got "${v}"`);
  return v;
}

function sampler(v: string): "flashinfer" | "native" {
  if (v !== "flashinfer" && v !== "native") throw new InputError(`--sampler must be flashinfer or native, got "${v}"`);
  return v;
}
