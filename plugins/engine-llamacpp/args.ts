// Launch arguments for llama-server built from a plan's inputs: an argument array, never a shell string.
// Flag names from llama.cpp common/arg.cpp (-c, -np, -ctk/-ctv, -fa on|off|auto, -b/-ub, -ngl, -kvu/-no-kvu, --swa-full).
import type { KvDtype } from "../../lib/calc/index.js";

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
