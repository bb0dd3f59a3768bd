// vLLM's command lines: `vllm serve` arguments for a deployment (argument names from vllm/engine/arg_utils.py
// EngineArgs), the export command, and the pipeline-parallel command a layer split prints.
import { InputError } from "../../lib/calc/index.js";
import type { Deployment, DeploymentShape, ModelSpec } from "../../lib/calc/index.js";
import type { PipelineStage } from "../../lib/fleet/engine.js";
import { exported } from "../engine-contract.js";
import type { ExportedCommand } from "../engine-contract.js";

export interface VllmServeOptions {
  host?: string;
  port?: number;
  gpuMemoryUtilization?: number;
  /** vLLM --quantization when the checkpoint does not say (awq, gptq, fp8, …). */
  quantization?: string;
  servedModelName?: string;
  extraArgs?: string[];
}

/** vLLM --kv-cache-dtype: "auto" keeps the model dtype; fp8 variants store 1 byte per element. */
function kvCacheDtype(dep: Deployment): string {
  if (dep.kvDtypeK !== dep.kvDtypeV) throw new InputError("vLLM takes one --kv-cache-dtype for K and V");
  const d = dep.kvDtypeK;
  if (d === "f16" || d === "bf16") return "auto";
  if (d === "fp8" || d === "fp8_e4m3" || d === "fp8_e5m2") return d;
  throw new InputError(`vLLM has no KV cache dtype "${d}" (use auto/f16/bf16, fp8, fp8_e4m3 or fp8_e5m2)`);
}

/** Arguments for the `vllm` executable (`vllm serve MODEL …`); pass to spawn("vllm", args) — no shell. */
export function buildVllmServeArgs(model: string, dep: Deployment, opts: VllmServeOptions = {}): string[] {
  if (dep.engine !== "vllm") throw new InputError(`deployment is for ${dep.engine}, not vllm`);
  const o = dep.options ?? {};
  const args = ["serve", model, "--max-model-len", String(dep.context), "--tensor-parallel-size", String(dep.tp), "--pipeline-parallel-size", String(dep.pp), "--kv-cache-dtype", kvCacheDtype(dep)];
  const util = opts.gpuMemoryUtilization ?? o.gpuMemoryUtilization;
  if (util !== undefined) args.push("--gpu-memory-utilization", String(util));
  if (o.maxNumSeqs !== undefined) args.push("--max-num-seqs", String(o.maxNumSeqs));
  if (o.maxNumBatchedTokens !== undefined) args.push("--max-num-batched-tokens", String(o.maxNumBatchedTokens));
  if (o.blockSize !== undefined) args.push("--block-size", String(o.blockSize));
  if (o.enforceEager) args.push("--enforce-eager");
  if (["fp16", "f16", "float16"].includes(dep.weights)) args.push("--dtype", "float16");
  else if (["bf16", "bfloat16"].includes(dep.weights)) args.push("--dtype", "bfloat16");
  if (opts.quantization) args.push("--quantization", opts.quantization);
  if (opts.servedModelName) args.push("--served-model-name", opts.servedModelName);
  if (opts.host) args.push("--host", opts.host);
  if (opts.port !== undefined) args.push("--port", String(opts.port));
  if (opts.extraArgs) args.push(...opts.extraArgs);
  return args;
}

/** `vllm serve` reproducing a plan; --seqs sequences served together are vLLM's --max-num-seqs. */
export function vllmExport(modelId: string, dep: Deployment): ExportedCommand[] {
  const options = dep.seqs > 1 ? { ...dep.options, maxNumSeqs: dep.options?.maxNumSeqs ?? dep.seqs } : dep.options;
  return [exported("vllm", ["vllm", ...buildVllmServeArgs(modelId, { ...dep, engine: "vllm", options })])];
}

/** Pipeline parallel over the split's stages: VLLM_PP_LAYER_PARTITION gives each stage its layer count (vllm/distributed/utils.py get_pp_indices). */
export function vllmPipelineCommands(model: ModelSpec, dep: DeploymentShape & { context: number; seqs: number }, _devices: string[], stages: PipelineStage[]): string[] {
  const pp = stages.filter((a) => a.layers > 0);
  return [
    `VLLM_PP_LAYER_PARTITION=${pp.map((a) => a.layers).join(",")} vllm serve ${model.id} --pipeline-parallel-size ${pp.length} --max-model-len ${dep.context}${dep.seqs > 1 ? ` --max-num-seqs ${dep.seqs}` : ""}`,
  ];
}
