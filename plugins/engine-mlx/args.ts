// mlx_lm command lines from a Deployment: mlx_lm.server / mlx_lm.generate argument arrays (argparse options of
// mlx_lm/server.py and mlx_lm/generate.py, ml-explore/mlx-lm d78bf58e) and the export command.
import { InputError } from "../../lib/calc/index.js";
import type { Deployment } from "../../lib/calc/index.js";
import { exported } from "../engine-contract.js";
import type { ExportedCommand } from "../engine-contract.js";

export interface MlxLaunch {
  /** HF repo id or local path of an MLX model (mlx-community/… or a converted folder). */
  model: string;
  deployment: Deployment;
  tool?: "server" | "generate";
  host?: string;
  port?: number;
  /** Tokens to generate (--max-tokens). */
  maxTokens?: number;
  /** generate only: the prompt ("-" reads stdin). */
  prompt?: string;
}

function kvBits(dep: Deployment): number | undefined {
  if (dep.kvDtypeK !== dep.kvDtypeV) throw new InputError("mlx_lm takes one --kv-bits for keys and values");
  switch (dep.kvDtypeK) {
    case "q8":
      return 8;
    case "q4":
      return 4;
    case "f16":
    case "bf16":
    case "f32":
      return undefined; // the cache takes the model dtype
    default:
      throw new InputError(`mlx_lm has no ${dep.kvDtypeK} KV cache (use f16/bf16, q8 or q4)`);
  }
}

/**
 * argv for `mlx_lm.server` (default) or `mlx_lm.generate`. --seqs maps to the server's --decode-concurrency
 * (sequences decoded together by its BatchGenerator). KV quantization (--kv-bits, --kv-group-size,
 * --quantized-kv-start 0) and --max-kv-size exist only on generate; the server refuses them here.
 */
export function buildMlxArgs(o: MlxLaunch): string[] {
  const dep = o.deployment;
  if (dep.engine !== "mlx") throw new InputError(`engine-mlx builds mlx_lm commands, not ${dep.engine}`);
  if (!o.model.trim()) throw new InputError("engine-mlx: --model is empty");
  if (dep.tp > 1 || dep.pp > 1) throw new InputError("engine-mlx: tensor/pipeline parallel needs mlx.launch over several hosts; plan it with --tp 1 --pp 1");
  const tool = o.tool ?? "server";
  const bits = kvBits(dep);
  const opts = dep.options ?? {};
  const argv = [tool === "server" ? "mlx_lm.server" : "mlx_lm.generate", "--model", o.model];
  if (o.maxTokens !== undefined) argv.push("--max-tokens", String(o.maxTokens));
  if (tool === "server") {
    if (bits !== undefined) throw new InputError("mlx_lm.server has no --kv-bits: a quantized KV cache needs mlx_lm.generate");
    if (opts.maxKvSize !== undefined) throw new InputError("mlx_lm.server has no --max-kv-size: a rotating cache needs mlx_lm.generate");
    argv.push("--host", o.host ?? "127.0.0.1", "--port", String(o.port ?? 8080));
    if (dep.seqs > 1) argv.push("--decode-concurrency", String(dep.seqs));
    if (opts.prefillStepSize !== undefined) argv.push("--prefill-step-size", String(opts.prefillStepSize));
    return argv;
  }
  if (dep.seqs > 1) throw new InputError("mlx_lm.generate runs one sequence; use the server (--decode-concurrency) for --seqs > 1");
  argv.push("--prompt", o.prompt ?? "-");
  if (opts.maxKvSize !== undefined) argv.push("--max-kv-size", String(opts.maxKvSize));
  if (bits !== undefined) {
    argv.push("--kv-bits", String(bits), "--kv-group-size", String(opts.kvGroupSize ?? 64), "--quantized-kv-start", "0");
  }
  return argv;
}

/** The name the brief and the collector use for the server command. */
export function buildMlxServerArgs(model: string, deployment: Deployment, o: Omit<MlxLaunch, "model" | "deployment" | "tool"> = {}): string[] {
  return buildMlxArgs({ ...o, model, deployment, tool: "server" });
}

/** mlx_lm.server for a plan (one host: mlx_lm has no tensor or pipeline parallel in a single process). */
export function mlxExport(modelId: string, dep: Deployment): ExportedCommand[] {
  return [exported("mlx", buildMlxServerArgs(modelId, { ...dep, engine: "mlx", tp: 1, pp: 1 }))];
}
