// hwledger fit: KV capacity, max concurrency and max context for a per-device budget.
import type { Command } from "commander";
import { InputError, deviceCapacity, fit } from "../../lib/calc/index.js";
import { engine } from "../../plugins/engines.js";
import { printJson, printLines } from "../output.js";
import { addDeploymentOptions, deploymentFromFlags, deviceFromFlag, flagValue, loadModel } from "./shared.js";
import type { DeploymentFlags } from "./shared.js";

const GIB = 1024 ** 3;

interface FitFlags extends DeploymentFlags {
  kvBudgetGib?: string;
  gpuMemoryGib?: string;
  gpuMemoryUtilization?: string;
  maxNumBatchedTokens?: string;
  maxNumSeqs?: string;
  enforceEager?: boolean;
  sampler?: string;
  vllmVersion?: string;
  vllmEntryPoint?: string;
  device?: string;
}

export function registerFit(program: Command): void {
  const cmd = program.command("fit").description("how much KV cache, concurrency and context fit a per-device budget");
  addDeploymentOptions(cmd, false)
    .option("--kv-budget-gib <x>", "KV cache budget per device (vLLM's 'Available KV cache memory')")
    .option("--device <id>", "catalog device (see `hwledger devices`): its memory as the engine sees it (79.19 GiB for h100-sxm-80gb) and the defaults that follow that GPU")
    .option("--gpu-memory-gib <x>", "GPU memory per device as torch sees it (e.g. 79.19 for an H100 80GB); overrides --device's")
    .option("--gpu-memory-utilization <u>", "vLLM --gpu-memory-utilization (default: the engine's own, 0.9 in vLLM; llama.cpp has no cap)")
    .option("--max-num-batched-tokens <n>", "vLLM --max-num-batched-tokens")
    .option("--max-num-seqs <n>", "vLLM --max-num-seqs")
    .option("--enforce-eager", "vLLM --enforce-eager (no CUDA graphs)")
    .option("--sampler <flashinfer|native>", "vLLM VLLM_USE_FLASHINFER_SAMPLER: flashinfer (opted in) or native; the default follows the release")
    .option("--vllm-version <v>", "vLLM release whose start-up rules to follow (default 0.19.0; e.g. 0.21.0, 0.25.1)")
    .option("--vllm-entry-point <serve|llm>", "vLLM entry point whose batch defaults apply: `vllm serve` (default) or the offline LLM class")
    .action(async (flags: FitFlags) => {
      if (flags.kvBudgetGib !== undefined && flags.gpuMemoryGib !== undefined) throw new InputError("give one of --kv-budget-gib and --gpu-memory-gib, not both");
      const device = deviceFromFlag(flags.device);
      if (flags.kvBudgetGib === undefined && flags.gpuMemoryGib === undefined && !device) throw new InputError("give --device, --gpu-memory-gib or --kv-budget-gib");
      const { model } = await loadModel(flags);
      const dep = deploymentFromFlags(model, flags, flags.context ?? String(model.maxContext), device);
      dep.options = {
        ...dep.options,
        ...(flags.maxNumBatchedTokens !== undefined ? { maxNumBatchedTokens: flagValue("tokens", flags.maxNumBatchedTokens, "--max-num-batched-tokens") } : {}),
        ...(flags.maxNumSeqs !== undefined ? { maxNumSeqs: flagValue("seqs", flags.maxNumSeqs, "--max-num-seqs") } : {}),
        ...(flags.enforceEager ? { enforceEager: true } : {}),
        ...(flags.sampler ? { sampler: sampler(flags.sampler) } : {}),
        ...(flags.vllmVersion !== undefined ? { vllmVersion: vllmVersion(flags.vllmVersion) } : {}),
        ...(flags.vllmEntryPoint !== undefined ? { vllmEntryPoint: entryPoint(flags.vllmEntryPoint) } : {}),
      };
      const util = flags.gpuMemoryUtilization !== undefined ? flagValue("fraction", flags.gpuMemoryUtilization, "--gpu-memory-utilization") : undefined;
      const e = engine(dep.engine);
      let r;
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
      if (flags.json) return printJson(r);
      printLines([`${model.id} on ${dep.engine}: KV capacity ${r.kvCapacityTokens} tokens, max concurrency ${r.maxConcurrency.toFixed(2)}x for ${dep.context} tokens, max context ${r.maxContext}`]);
    });
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
