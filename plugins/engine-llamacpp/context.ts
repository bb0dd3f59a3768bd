// The context llama.cpp builds: cells per stream, streams, batch sizes and the SWA cache's cells
// (llama-context.cpp llama_context::llama_context, llama-kv-cache-iswa.cpp).
import type { DeploymentShape, ModelSpec } from "../../lib/calc/index.js";
import type { Deployment } from "../../lib/calc/index.js";
import { compileLlamaModel } from "./model.js";

/** llama_context_default_params: n_batch 2048, n_ubatch 512. */
export const LLAMA_DEFAULT_BATCH = 2048;
export const LLAMA_DEFAULT_UBATCH = 512;
/** llama.cpp pads cell counts to multiples of 256 (GGML_PAD(n_ctx, 256)). */
export const LLAMA_CELL_PAD = 256;

const pad = (x: number, n: number) => Math.ceil(x / n) * n;

/** flash_attn defaults to "auto", which resolves to on where the backend supports it (CPU, CUDA, Metal, Vulkan). */
export const flashAttentionOf = (shape: DeploymentShape): boolean => shape.options?.flashAttention ?? true;

export interface LlamaCppContext {
  /** n_ctx after llama_context's padding (all streams together). */
  nCtx: number;
  /** Cells per stream in the base cache (cparams.n_ctx_seq). */
  nCtxSeq: number;
  nSeq: number;
  /** KV streams: n_seq_max when not unified, else 1 (llama_kv_cache: n_stream = unified ? 1 : n_seq_max). */
  nStream: number;
  nBatch: number;
  nUbatch: number;
  /** Cells per stream of the SWA cache (0 when the model has none). */
  swaCells: number;
  flashAttention: boolean;
  unified: boolean;
}

/**
 * The context llama.cpp builds for `-c N×S -np S` (hwledger's --context is tokens per sequence), following
 * llama-context.cpp llama_context::llama_context: n_ctx = GGML_PAD(n_ctx, 256); not unified: n_ctx_seq =
 * GGML_PAD(n_ctx / n_seq_max, 256) and n_ctx = n_ctx_seq × n_seq_max; n_batch = min(n_ctx, n_batch);
 * n_ubatch = min(n_batch, n_ubatch). With --kv-unified one stream of n_ctx = --context cells serves every sequence.
 * llama-kv-cache-iswa.cpp llama_kv_cache_iswa: size_swa = GGML_PAD(min(size_base, n_swa × (unified ? n_seq_max : 1)
 * + n_ubatch), 256); --swa-full: size_base.
 */
export function contextOf(shape: DeploymentShape, swaWindow: number, context: number, seqs: number): LlamaCppContext {
  const o = shape.options;
  const unified = o?.kvUnified ?? false;
  let nCtx = pad(unified ? context : context * seqs, LLAMA_CELL_PAD);
  let nCtxSeq = nCtx;
  if (!unified) {
    nCtxSeq = pad(Math.floor(nCtx / seqs), LLAMA_CELL_PAD);
    nCtx = nCtxSeq * seqs;
  }
  const nStream = unified ? 1 : seqs;
  const nBatch = Math.min(nCtx, o?.batch ?? LLAMA_DEFAULT_BATCH);
  const nUbatch = Math.min(nCtx, o?.batch ?? LLAMA_DEFAULT_BATCH, o?.ubatch ?? LLAMA_DEFAULT_UBATCH);
  let swaCells = 0;
  if (swaWindow > 0) swaCells = o?.swaFull ? nCtxSeq : pad(Math.min(nCtxSeq, swaWindow * (unified ? seqs : 1) + nUbatch), LLAMA_CELL_PAD);
  const flashAttention = flashAttentionOf(shape);
  return { nCtx: nCtxSeq * nStream, nCtxSeq, nSeq: seqs, nStream, nBatch, nUbatch, swaCells, flashAttention, unified };
}

/** The context llama.cpp builds for a deployment (the launcher passes its batch sizes on). */
export function llamaCppContext(model: ModelSpec, dep: Deployment): LlamaCppContext {
  return contextOf(dep, compileLlamaModel(model).swaWindow, dep.context, dep.seqs);
}
