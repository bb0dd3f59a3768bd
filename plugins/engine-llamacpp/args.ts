// llama.cpp command lines built from a plan: llama-server arguments (an argument array, never a shell string), the
// export command (llama-server, Ollama) and the RPC layer split.
// Flag names from llama.cpp common/arg.cpp (-c, -np, -ctk/-ctv, -fa on|off|auto, -b/-ub, -ngl, -kvu/-no-kvu, --swa-full).
import type { Deployment, DeploymentShape, KvDtype, ModelSpec } from "../../lib/calc/index.js";
import type { PipelineStage } from "../../lib/fleet/engine.js";
import { exported } from "../engine-contract.js";
import { kvType } from "./cache.js";
import type { ExportOptions, ExportedCommand } from "../engine-contract.js";

export interface LlamaServerInputs {
  /** GGUF path (or use hfRepo). */
  model?: string;
  /** `-hf owner/repo[:quant]`. */
  hfRepo?: string;
  /** Tokens per sequence (hwledger --context). */
  context: number;
  seqs?: number;
  kvDtypeK?: KvDtype | string;
  kvDtypeV?: KvDtype | string;
  flashAttention?: boolean;
  batch?: number;
  ubatch?: number;
  /** Layers on the GPU; undefined = llama.cpp's default. */
  gpuLayers?: number;
  kvUnified?: boolean;
  swaFull?: boolean;
  host?: string;
  port?: number;
  threads?: number;
  extra?: string[];
}

/**
 * `-c N×S -np S` with the KV cache not unified, so each sequence gets n_ctx_seq = N cells as hwledger plans it
 * (llama-context.cpp: n_ctx_seq = n_ctx / n_seq_max). With kvUnified, `-c N` is shared by all sequences.
 */
export function buildLlamaServerArgs(p: LlamaServerInputs): string[] {
  if (!p.model && !p.hfRepo) throw new Error("buildLlamaServerArgs: a GGUF path or an HF repo is required");
  const seqs = p.seqs ?? 1;
  const a: string[] = p.model ? ["-m", p.model] : ["-hf", p.hfRepo!];
  a.push("-c", String(p.kvUnified ? p.context : p.context * seqs), "-np", String(seqs), p.kvUnified ? "--kv-unified" : "--no-kv-unified");
  if (p.kvDtypeK) a.push("-ctk", String(p.kvDtypeK));
  if (p.kvDtypeV) a.push("-ctv", String(p.kvDtypeV));
  if (p.flashAttention !== undefined) a.push("-fa", p.flashAttention ? "on" : "off");
  if (p.batch !== undefined) a.push("-b", String(p.batch));
  if (p.ubatch !== undefined) a.push("-ub", String(p.ubatch));
  if (p.gpuLayers !== undefined) a.push("-ngl", String(p.gpuLayers));
  if (p.swaFull) a.push("--swa-full");
  if (p.threads !== undefined) a.push("-t", String(p.threads));
  if (p.host) a.push("--host", p.host);
  if (p.port !== undefined) a.push("--port", String(p.port));
  if (p.extra) a.push(...p.extra);
  return a;
}

/** llama-server for a plan (all layers on the GPU); Ollama's commands are plugins/engine-ollama's. */
export function llamaCppExport(modelId: string, dep: Deployment, opts: ExportOptions = {}): ExportedCommand[] {
  // -ctk / -ctv take ggml cache types only (a cache llama.cpp cannot hold gets no command rather than a wrong one).
  kvType(dep.kvDtypeK, "K");
  kvType(dep.kvDtypeV, "V");
  const gguf = opts.gguf ?? `${modelId.split("/").pop()}-${dep.weights}.gguf`;
  const server = ["llama-server", ...buildLlamaServerArgs({ model: gguf, context: dep.context, seqs: dep.seqs, kvDtypeK: dep.kvDtypeK, kvDtypeV: dep.kvDtypeV, gpuLayers: 999, flashAttention: dep.kvDtypeV !== "f16" ? true : undefined })];
  return [exported("llama.cpp", server)];
}

/**
 * llama.cpp assigns layer il to the first device whose cumulative split exceeds il / (n_layer + 1), the extra
 * slot being the output layer (src/llama-model.cpp load_tensors get_layer_buft_list). Giving each device its
 * layer count, plus one on the last device for the output slot, reproduces the planned ranges exactly.
 */
export function llamaTensorSplit(stages: PipelineStage[]): number[] {
  return stages.map((a, k) => a.layers + (k === stages.length - 1 ? 1 : 0));
}

function hostPlaceholder(id: string): string {
  return `HOST_OF_${id.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}`;
}

/**
 * A layer split over hosts: rpc-server on every device but the first of the user's list, llama-server on the first
 * with --rpc (llama.cpp puts RPC devices at the front of its device list) and --tensor-split over the stages.
 */
export function llamaCppRpcCommands(model: ModelSpec, dep: DeploymentShape & { context: number; seqs: number }, devices: string[], stages: PipelineStage[], opts: { rpcPort?: number; modelPath?: string }): string[] {
  const port = opts.rpcPort ?? 50052;
  const modelPath = opts.modelPath ?? "MODEL.gguf";
  const remotes = devices.slice(1);
  const out: string[] = remotes.map((d) => `# on the host of ${d}: rpc-server --host 0.0.0.0 --port ${port}`);
  const args = [
    "llama-server",
    "-m", modelPath,
    "-ngl", String(dep.options?.gpuLayers ?? model.layers.length + 1),
    "-c", String(dep.context * dep.seqs),
    ...(dep.seqs > 1 ? ["-np", String(dep.seqs)] : []),
    ...(dep.kvDtypeK !== "f16" ? ["-ctk", dep.kvDtypeK] : []),
    ...(dep.kvDtypeV !== "f16" ? ["-ctv", dep.kvDtypeV] : []),
    "--split-mode", "layer",
    ...(remotes.length ? ["--rpc", remotes.map((d) => `${hostPlaceholder(d)}:${port}`).join(",")] : []),
    ...(stages.length > 1 ? ["--tensor-split", llamaTensorSplit(stages).join(",")] : []),
  ];
  out.push(`# on the host of ${devices[0]}: ${args.join(" ")}`);
  return out;
}
