// hwledger plan: the memory plan of one model under one deployment.
import type { Command } from "commander";
import { plan, planJson } from "../../lib/calc/index.js";
import { engine } from "../../plugins/engines.js";
import { formatBytes, formatCount, printJson, printLines } from "../output.js";
import { addLlamaCppOptions, bufferLines, devicesFromFlag, llamaCppOptions } from "./llamacpp-flags.js";
import type { LlamaCppFlags } from "./llamacpp-flags.js";
import { addDeploymentOptions, deploymentFromFlags, loadModel, withCpuOffload } from "./shared.js";
import type { DeploymentFlags } from "./shared.js";

export function registerPlan(program: Command): void {
  const cmd = program.command("plan").description("memory plan: weights, KV cache, activations, overhead");
  addLlamaCppOptions(addDeploymentOptions(cmd, true))
    .option("--device <id[,id…]>", "catalog device the engine runs on: its defaults (vLLM's batch sizes) follow that GPU; llama.cpp takes several GPUs in order")
    .option("--cpu-offload-gb <gib>", "vLLM --cpu-offload-gb: GiB of weights per GPU kept in host memory (off the GPU, read over PCIe each forward)")
    .option("--wired-limit-mb <n>", "Apple: the GPU working set the user set with sudo sysctl iogpu.wired_limit_mb=N (default: macOS's 2/3 or 3/4 of RAM)")
    .action(async (flags: DeploymentFlags & LlamaCppFlags & { device?: string; wiredLimitMb?: string; cpuOffloadGb?: string }) => {
    const { device, gpus } = devicesFromFlag(flags.device, flags.wiredLimitMb);
    const { model } = await loadModel(flags);
    const dep = withCpuOffload(deploymentFromFlags(model, flags, flags.context!, device), flags.cpuOffloadGb);
    dep.options = { ...dep.options, ...(gpus ? { gpus } : {}), ...(await llamaCppOptions(flags, dep.engine, dep)) };
    const p = plan(model, dep, engine(dep.engine));
    if (flags.json) return printJson(planJson(p));
    const m = p.memory;
    const lines = [
      `${model.id} on ${dep.engine}: ${dep.weights} weights, KV ${dep.kvDtypeK}${dep.kvDtypeV !== dep.kvDtypeK ? "/" + dep.kvDtypeV : ""}, context ${dep.context} × ${dep.seqs} seq, tp ${dep.tp} pp ${dep.pp}`,
      `params      ${formatCount(p.params.total)} total, ${formatCount(p.params.active)} active`,
      `weights     ${formatBytes(m.weightsBytes)}`,
      `KV cache    ${formatBytes(m.kvCacheBytes)}  (${formatBytes(p.kv.bytesPerToken)} per token)`,
      `activations ${formatBytes(m.activationBytes)}`,
      `overhead    ${formatBytes(m.overheadBytes)}`,
      `total       ${formatBytes(m.totalBytes)}`,
    ];
    if (p.buffers && (p.buffers.length > 1 || dep.options?.gpuLayers !== undefined)) lines.push(...bufferLines(p.buffers));
    if (p.devices.length > 1) for (const d of p.devices) lines.push(`  rank ${d.rank}: ${formatBytes(d.totalBytes)}`);
    for (const w of p.warnings) lines.push(`warning: ${w}`);
    printLines(lines);
  });
}
