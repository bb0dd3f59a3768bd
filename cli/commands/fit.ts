// hwledger fit: KV capacity, max concurrency and max context for a per-device budget.
import type { Command } from "commander";
import { InputError, fit } from "../../lib/calc/index.js";
import { printJson, printLines } from "../output.js";
import { addDeploymentOptions, deploymentFromFlags, flagValue, loadModel } from "./shared.js";
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
}

export function registerFit(program: Command): void {
  const cmd = program.command("fit").description("how much KV cache, concurrency and context fit a per-device budget");
  addDeploymentOptions(cmd, false)
    .option("--kv-budget-gib <x>", "KV cache budget per device (vLLM's 'Available KV cache memory')")
    .option("--gpu-memory-gib <x>", "GPU memory per device as torch sees it (e.g. 79.19 for an H100 80GB)")
    .option("--gpu-memory-utilization <u>", "vLLM --gpu-memory-utilization", "0.9")
    .option("--max-num-batched-tokens <n>", "vLLM --max-num-batched-tokens")
    .option("--max-num-seqs <n>", "vLLM --max-num-seqs")
    .option("--enforce-eager", "vLLM --enforce-eager (no CUDA graphs)")
    .option("--sampler <flashinfer|native>", "vLLM top-k/top-p sampler warmed up at start-up: flashinfer when installed, else native (default)")
    .option("--vllm-version <v>", "vLLM release to reproduce (e.g. 0.25.1); from 0.21 'GPU KV cache size' = concurrency x max_model_len")
    .action(async (flags: FitFlags) => {
      if ((flags.kvBudgetGib === undefined) === (flags.gpuMemoryGib === undefined)) throw new InputError("give exactly one of --kv-budget-gib and --gpu-memory-gib");
      const { model } = await loadModel(flags);
      const dep = deploymentFromFlags(model, flags, flags.context ?? String(model.maxContext));
      dep.options = {
        ...dep.options,
        ...(flags.maxNumBatchedTokens !== undefined ? { maxNumBatchedTokens: flagValue("tokens", flags.maxNumBatchedTokens, "--max-num-batched-tokens") } : {}),
        ...(flags.maxNumSeqs !== undefined ? { maxNumSeqs: flagValue("seqs", flags.maxNumSeqs, "--max-num-seqs") } : {}),
        ...(flags.enforceEager ? { enforceEager: true } : {}),
        ...(flags.sampler ? { sampler: sampler(flags.sampler) } : {}),
        ...(flags.vllmVersion !== undefined ? { vllmVersion: vllmVersion(flags.vllmVersion) } : {}),
      };
      const budget = flags.kvBudgetGib !== undefined
        ? { kvBudgetBytes: flagValue("gib", flags.kvBudgetGib, "--kv-budget-gib") * GIB }
        : { gpuMemoryBytes: flagValue("gib", flags.gpuMemoryGib!, "--gpu-memory-gib") * GIB, gpuMemoryUtilization: flagValue("fraction", flags.gpuMemoryUtilization ?? "0.9", "--gpu-memory-utilization") };
      const r = fit(model, dep, budget);
      if (flags.json) return printJson(r);
      printLines([`${model.id} on ${dep.engine}: KV capacity ${r.kvCapacityTokens} tokens, max concurrency ${r.maxConcurrency.toFixed(2)}x for ${dep.context} tokens, max context ${r.maxContext}`]);
    });
}

/** A vLLM release as MAJOR.MINOR[.PATCH] (the form its version strings take, e.g. 0.25.1). */
function vllmVersion(v: string): string {
  if (!/^\d{1,4}\.\d{1,4}(\.\d{1,4})?$/.test(v)) throw new InputError(`--vllm-version must look like 0.25.1 (MAJOR.MINOR[.PATCH]), got ${JSON.stringify(v)}`);
  return v;
}

function sampler(v: string): "flashinfer" | "native" {
  if (v !== "flashinfer" && v !== "native") throw new InputError(`--sampler must be flashinfer or native, got "${v}"`);
  return v;
}
