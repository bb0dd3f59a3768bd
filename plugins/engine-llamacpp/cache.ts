// How llama.cpp sizes and pads its caches: the base and SWA KV caches (cells padded to 256 per stream, K/V rows per
// ggml_row_size, V transposed and padded without flash attention) and the recurrent memory (llama-kv-cache.cpp
// llama_kv_cache::llama_kv_cache, llama-memory-recurrent.cpp, llama_model::create_memory).
import { InputError, ggmlType } from "../../lib/calc/index.js";
import type { Deployment, DeploymentShape, GgmlType, KvDtype, ModelSpec } from "../../lib/calc/index.js";
import { contextOf } from "./context.js";
import type { LlamaCppContext } from "./context.js";
import { compileLlamaModel, headSizes } from "./model.js";
import type { LlamaModel, MemorySums } from "./model.js";

/** Element types llama.cpp accepts for -ctk/-ctv (common/arg.cpp kv_cache_types). */
const KV_TYPES: Partial<Record<KvDtype, string>> = { f32: "F32", f16: "F16", bf16: "BF16", q8_0: "Q8_0", q5_0: "Q5_0", q5_1: "Q5_1", q4_0: "Q4_0", q4_1: "Q4_1", iq4_nl: "IQ4_NL" };

export function kvType(d: KvDtype, which: "K" | "V"): GgmlType {
  const t = KV_TYPES[d];
  if (!t) throw new InputError(`llama.cpp has no ${which} cache type "${d}" (use f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0 or q5_1)`);
  return ggmlType(t)!;
}

/** The cache layout of one model and deployment shape: bytes per cell of each memory. */
export interface LlamaCacheTable {
  model: LlamaModel;
  shape: DeploymentShape;
  /** Bytes per element as fractions of a block (ggml_row_size): q8_0 = 34/32. */
  kb: number;
  vb: number;
  /** V row width without flash attention: n_embd_v_gqa_max (V stored transposed), else 0. */
  vPad: number;
}

export function compileLlamaCache(m: LlamaModel, shape: DeploymentShape): LlamaCacheTable {
  const tk = kvType(shape.kvDtypeK, "K");
  const tv = kvType(shape.kvDtypeV, "V");
  const fa = shape.options?.flashAttention ?? true;
  const quantV = tv.blockSize > 1;
  if (quantV && !fa) throw new InputError(`llama.cpp: a quantized V cache (${shape.kvDtypeV}) requires flash attention (llama-context.cpp llama_init_from_model)`);
  // Quantized caches need whole blocks per head (llama_init_from_model: "K cache type … does not divide n_embd_head_k").
  if (tk.blockSize > 1 && m.headKGcd % tk.blockSize !== 0) throw new InputError(`llama.cpp: K cache type ${shape.kvDtypeK} needs a head size divisible by ${tk.blockSize}; this model has K heads of ${headSizes(m, "headK")}`);
  if (quantV && m.headVGcd % tv.blockSize !== 0) throw new InputError(`llama.cpp: V cache type ${shape.kvDtypeV} needs a head size divisible by ${tv.blockSize}; this model has V heads of ${headSizes(m, "headV")}`);
  return { model: m, shape, kb: tk.typeSize / tk.blockSize, vb: tv.typeSize / tv.blockSize, vPad: fa ? 0 : m.maxVElems };
}

export interface LlamaCppCacheDetail {
  ctx: LlamaCppContext;
  /** Bytes of each cache llama.cpp prints a `size = …` line for. */
  base: { cells: number; layers: number; kBytes: number; vBytes: number };
  swa: { cells: number; layers: number; kBytes: number; vBytes: number };
  recurrent: { cells: number; layers: number; bytes: number };
}

/**
 * K: ggml_new_tensor_3d(type_k, n_embd_k_gqa, kv_size, n_stream) per layer; V likewise, except that without flash
 * attention V is stored transposed and padded to n_embd_v_gqa_max. Recurrent: mem_size = max(1, n_seq_max) rows of
 * n_embd_r + n_embd_s f32 values per layer.
 */
export function cachesAt(t: LlamaCacheTable, context: number, seqs: number): LlamaCppCacheDetail {
  const m = t.model;
  const ctx = contextOf(t.shape, m.swaWindow, context, seqs);
  const kv = (s: MemorySums, cells: number) => ({ kBytes: t.kb * s.kElems * cells, vBytes: t.vb * (t.vPad ? t.vPad * s.vLayers : s.vElems) * cells });
  const rsCells = Math.max(1, ctx.nSeq);
  return {
    ctx,
    base: { cells: ctx.nCtxSeq, layers: m.base.layers, ...kv(m.base, ctx.nCtxSeq * ctx.nStream) },
    swa: { cells: ctx.swaCells, layers: m.swa.layers, ...kv(m.swa, ctx.swaCells * ctx.nStream) },
    recurrent: { cells: rsCells, layers: m.recurrent.layers, bytes: m.recurrent.rsElems * 4 * rsCells },
  };
}

export function cacheTotal(d: LlamaCppCacheDetail): number {
  return d.base.kBytes + d.base.vBytes + d.swa.kBytes + d.swa.vBytes + d.recurrent.bytes;
}

/** Each layer's bytes (summed over streams), as plan's per-layer rows. */
export function cachePerLayer(t: LlamaCacheTable, d: LlamaCppCacheDetail): number[] {
  const baseCells = d.ctx.nCtxSeq * d.ctx.nStream;
  const swaCells = d.ctx.swaCells * d.ctx.nStream;
  return t.model.layers.map((l) => {
    if (l.memory === "recurrent") return l.rsElems * 4 * d.recurrent.cells;
    if (l.memory === null) return 0;
    const cells = l.memory === "base" ? baseCells : swaCells;
    return t.kb * l.kElems * cells + (l.vElems === 0 ? 0 : t.vb * (t.vPad || l.vElems) * cells);
  });
}

/** The caches llama.cpp allocates, split as its log prints them (llama_kv_cache / llama_memory_recurrent `size =` lines). */
export function llamaCppCaches(model: ModelSpec, dep: Deployment): LlamaCppCacheDetail {
  return cachesAt(compileLlamaCache(compileLlamaModel(model), dep), dep.context, dep.seqs);
}
