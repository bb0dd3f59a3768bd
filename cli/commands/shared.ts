// Options shared by every command that takes a deployment (plan, fit, run, export, …): same flags, same meaning.
import type { Command } from "commander";
import { InputError, makeDeployment } from "../../lib/calc/index.js";
import type { Deployment, ModelSpec } from "../../lib/calc/index.js";
import { engineDevice } from "../../lib/fleet/devices.js";
import type { EngineDevice } from "../../lib/fleet/devices.js";
import { resolveModel } from "../../loaders/models.js";
import { ENGINE_IDS, parseEngine } from "../../plugins/engines.js";
import type { ResolvedModel } from "../../loaders/models.js";
import { flagValue } from "../args.js";

export interface DeploymentFlags {
  model?: string;
  gguf?: string;
  checkpoint?: boolean;
  engine: string;
  context?: string;
  seqs?: string;
  weights?: string;
  kvDtype?: string;
  tp?: string;
  pp?: string;
  json?: boolean;
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option("--model <ref>", "config.json path, folder with one, or HF model id (catalog ids resolve offline)")
    .option("--gguf <file>", "GGUF: a local file, an http(s) URL or org/repo[:quant|:file] on the HF hub (only the header is read, split files too): exact tensor types and architecture")
    .option("--checkpoint", "exact weight bytes from the model's safetensors headers (a local folder, or the HF hub online); implies --weights checkpoint");
}

export function addDeploymentOptions(cmd: Command, contextRequired: boolean, engineDefault?: string): Command {
  addModelOptions(cmd);
  if (engineDefault) cmd.option("--engine <engine>", ENGINE_IDS.join(" | "), engineDefault);
  else cmd.requiredOption("--engine <engine>", ENGINE_IDS.join(" | "));
  cmd
    .option("--seqs <n>", "parallel sequences", "1")
    .option("--weights <dtype|quant>", "weight dtype or quantization (bf16, fp8, awq, gptq, nf4, mxfp4, Q4_K_M, …)")
    .option("--kv-dtype <t|k,v>", "KV cache dtype for K and V, or K,V (f16, bf16, fp8, q8_0, q4_0, …)")
    .option("--tp <n>", "tensor-parallel size", "1")
    .option("--pp <n>", "pipeline-parallel size", "1")
    .option("--json", "print one JSON document on stdout");
  if (contextRequired) cmd.requiredOption("--context <n>", "tokens per sequence");
  else cmd.option("--context <n>", "tokens per sequence");
  return cmd;
}

/** Loads the model named by --model or --gguf. */
export async function loadModel(flags: { model?: string; gguf?: string; checkpoint?: boolean; weights?: string }): Promise<ResolvedModel> {
  if (flags.model && flags.gguf) throw new InputError("give --model or --gguf, not both");
  if (flags.gguf) {
    if (flags.checkpoint) throw new InputError("--checkpoint reads safetensors; a GGUF already gives exact bytes");
    const { resolveGguf } = await import("../../loaders/gguf.js");
    return resolveGguf(flags.gguf);
  }
  if (!flags.model) throw new InputError("--model or --gguf is required");
  const resolved = await resolveModel(flags.model);
  if (flags.checkpoint) {
    const { readCheckpoint } = await import("../../loaders/safetensors.js");
    resolved.model.checkpoint = await readCheckpoint(flags.model, resolved.model);
    // The checkpoint's own bytes are the weights unless --weights asks for another layout.
    flags.weights ??= "checkpoint";
  }
  return resolved;
}

/** --device ID: the catalog device as the engine sees it (lib/fleet/devices.ts engineDevice); every command reads it here. */
export function deviceFromFlag(ref: string | undefined, wiredLimitMb?: string): EngineDevice | undefined {
  if (ref === undefined) {
    if (wiredLimitMb !== undefined) throw new InputError("--wired-limit-mb needs --device (an Apple device)");
    return undefined;
  }
  if (!ref.trim()) throw new InputError("--device needs a catalog device id (see `hwledger devices`)");
  if (wiredLimitMb === undefined) return engineDevice(ref);
  if (!/^\d{1,9}$/.test(wiredLimitMb.trim()) || Number(wiredLimitMb) < 1) throw new InputError(`--wired-limit-mb must be a whole number of MiB (iogpu.wired_limit_mb), got ${JSON.stringify(wiredLimitMb)}`);
  const d = engineDevice(ref, { wiredLimitMb: Number(wiredLimitMb) });
  if (d.deviceClass !== "metal") throw new InputError(`--wired-limit-mb applies to Apple unified memory; ${d.id} is not an Apple device`);
  return d;
}

export function deploymentFromFlags(model: ModelSpec, flags: DeploymentFlags, context: number | string, device?: EngineDevice): Deployment {
  return makeDeployment(model, {
    engine: parseEngine(flags.engine),
    weights: flags.weights,
    kvDtype: flags.kvDtype,
    context: flagValue("tokens", context, "--context"),
    seqs: flagValue("seqs", flags.seqs ?? "1", "--seqs"),
    tp: flagValue("tp", flags.tp ?? "1", "--tp"),
    pp: flagValue("pp", flags.pp ?? "1", "--pp"),
    // Engines whose defaults depend on the GPU (vLLM's batch sizes) read the device from the deployment.
    ...(device ? { options: { device } } : {}),
  });
}

/** --cpu-offload-gb GiB: vLLM's weight offload to host memory (options.cpuOffloadGiB); other engines refuse it. */
export function withCpuOffload(dep: Deployment, gib: string | undefined): Deployment {
  if (gib === undefined) return dep;
  if (dep.engine !== "vllm") throw new InputError(`--cpu-offload-gb is vLLM's option (engine ${dep.engine})`);
  return { ...dep, options: { ...dep.options, cpuOffloadGiB: flagValue("gib", gib, "--cpu-offload-gb") } };
}

export { flagValue, ledgerDirFlag, optFlag, strictNumber } from "../args.js";
