// llama.cpp's memory for a deployment, compiled once per model and shape: the caches (cache.ts), the compute buffer
// (compute.ts), the output buffer, and `hwledger fit` (llama.cpp allocates exactly what -c asks for).
import { weightBytes } from "../../lib/calc/index.js";
import type { Deployment, DeploymentShape, EngineTable, FitBudget, FitResult, ModelSpec } from "../../lib/calc/index.js";
import { cachePerLayer, cacheTotal, cachesAt, compileLlamaCache } from "./cache.js";
import { deviceComputeBuffer } from "./compute.js";
import { LLAMA_CELL_PAD } from "./context.js";
import { buffersAt, compileOffload, computeTotal } from "./offload.js";
import { compileLlamaModel } from "./model.js";
import type { LlamaModel } from "./model.js";

const ACT_BASIS_FA = "estimate: llama.cpp device compute buffer = ggml-alloc peak of the n_ubatch reserve graph (sched_reserve): max of logits n_vocab × n_ubatch + result_norm, the FFN block (ffn_inp, ffn_norm, gate, up, swiglu) and the attention block, over the graph inputs (f16 KQ mask n_kv × n_ubatch, positions, cache row ids); n_embd × n_ubatch per allocator hole not counted; summed over backends (offload.ts): the host adds inp_embd n_embd × n_ubatch f32";
const ACT_BASIS_NO_FA = "estimate: llama.cpp device compute buffer = ggml-alloc peak of the n_ubatch reserve graph (sched_reserve): max of logits n_vocab × n_ubatch + result_norm, the FFN block and the attention block with KQ scores n_kv × n_ubatch × n_head f32 (flash attention off, f32 KQ mask); n_embd × n_ubatch per allocator hole not counted; summed over backends (offload.ts): the host adds inp_embd n_embd × n_ubatch f32";
const OVERHEAD_BASIS = "llama.cpp output buffer n_vocab × n_seq f32 (llama-context.cpp output_reserve); backend context (CUDA ~0.3–0.5 GiB per GPU) not included";

function tableFor(model: ModelSpec, m: LlamaModel, shape: DeploymentShape): EngineTable {
  const c = compileLlamaCache(m, shape);
  const o = shape.options ?? {};
  const fa = o.flashAttention ?? true;
  const off = compileOffload(model, shape);
  // Bytes beyond the model's own tensors: a tied output matrix copied to the GPU, the projector, the draft's weights.
  const extra = off.duplicatedOutput + (o.projector?.bytes ?? 0) + (o.draft?.weightsBytes ?? 0);
  const extraBasis = [
    off.duplicatedOutput ? "a tied output matrix copied to the output layer's GPU (llama-model.cpp load_tensors TENSOR_DUPLICATED)" : "",
    o.projector ? "the mmproj projector's tensors (its GGUF header)" : "",
    o.draft ? "the draft model's weights" : "",
  ].filter(Boolean);
  const draftRuntime = (o.draft?.kvBytes ?? 0) + (o.draft?.computeBytes ?? 0);
  return {
    ...(extra ? { weightAdjustment: { bytes: extra, basis: `llama.cpp adds ${extraBasis.join("; ")}` } } : {}),
    buffers: (context, seqs) => buffersAt(m, c, off, shape, context, seqs),
    kvBytes: (context, seqs) => cacheTotal(cachesAt(c, context, seqs)),
    kvPerLayer: (context, seqs) => cachePerLayer(c, cachesAt(c, context, seqs)),
    // Every base-cache layer holds the same cells, so one token of one sequence costs base bytes / cells.
    kvBytesPerToken(context, seqs) {
      const d = cachesAt(c, context, seqs);
      return d.base.layers ? (d.base.kBytes + d.base.vBytes) / (d.base.cells * d.ctx.nStream) : 0;
    },
    // Every backend's compute buffer (the GPUs' and the host's, offload.ts).
    activationBytes: (context, seqs) => computeTotal(m, off, shape, context, seqs),
    // llama_context::output_reserve(n_seq_max): logits n_vocab × n_seq_max f32 ("output buffer size"); a draft model's KV and compute.
    overheadBytes: (_context, seqs) => 4 * model.vocabSize * seqs + draftRuntime,
    cacheBasis: m.basis,
    activationBasis: fa ? ACT_BASIS_FA : ACT_BASIS_NO_FA,
    overheadBasis: OVERHEAD_BASIS,
    warnings: m.ignoredSwa ? [`llama.cpp runs ${model.modelType} without sliding-window caching: its sliding layers get a full-size KV cache`] : [],
  };
}

export function compileLlamaCpp(model: ModelSpec, shape: DeploymentShape): EngineTable {
  return tableFor(model, compileLlamaModel(model), shape);
}

/** Largest multiple of 256 (llama.cpp's cell granularity) in [256, limit] for which `fits` holds; 0 if none. */
function largestCells(limit: number, fits: (cells: number) => boolean): number {
  let lo = 0;
  let hi = Math.floor(limit / LLAMA_CELL_PAD);
  if (hi < 1 || !fits(LLAMA_CELL_PAD)) return 0;
  lo = 1;
  if (fits(hi * LLAMA_CELL_PAD)) return hi * LLAMA_CELL_PAD;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid * LLAMA_CELL_PAD)) lo = mid;
    else hi = mid;
  }
  return lo * LLAMA_CELL_PAD;
}

/**
 * `hwledger fit` for llama.cpp. llama.cpp allocates exactly what -c asks for (no utilization cap, no profiling run),
 * so: budget = GPU memory − weights − compute − output buffers (or the KV budget given); kvCapacityTokens = the
 * largest n_ctx whose caches fit when --seqs sequences share one unified cache (-kvu); maxContext = the largest
 * per-sequence context (n_ctx_seq, a multiple of 256) that fits with --seqs streams, capped at the model's trained
 * context. SWA and recurrent caches are counted at their real (constant) size.
 */
export function llamaCppFit(model: ModelSpec, dep: Deployment, budget: FitBudget): FitResult {
  const basis: string[] = [];
  const m = compileLlamaModel(model);
  const ranks = dep.tp * dep.pp;
  let available = budget.kvBudgetBytes ?? 0;
  if (budget.kvBudgetBytes === undefined) {
    const util = budget.gpuMemoryUtilization ?? 1;
    const weights = weightBytes(model, dep.weights).total;
    const fixed = (deviceComputeBuffer(m, dep, dep.context, dep.seqs) + 4 * model.vocabSize * dep.seqs) * ranks;
    available = budget.gpuMemoryBytes! * util - (weights + fixed) / ranks;
    basis.push(`llama.cpp: KV budget = ${util} × GPU memory − weights − compute buffer estimate − output buffer, per rank`);
  }
  // Weights and buffers alone past the memory: llama.cpp fails to allocate them, whatever the context.
  if (available < 0) return { kvCapacityTokens: 0, maxConcurrency: 0, maxContext: 0, availableKvBytes: 0, basis: [...basis, "llama.cpp: weights and buffers alone exceed the memory"] };
  const perStream = compileLlamaCache(m, dep);
  const shared = compileLlamaCache(m, { ...dep, options: { ...dep.options, kvUnified: true } });
  const kvCapacityTokens = largestCells(1 << 30, (cells) => cacheTotal(cachesAt(shared, cells, dep.seqs)) / ranks <= available);
  const maxContext = largestCells(Math.max(LLAMA_CELL_PAD, model.maxContext), (cells) => cacheTotal(cachesAt(perStream, cells, dep.seqs)) / ranks <= available);
  basis.push("llama.cpp: cells in multiples of 256 (llama-context.cpp n_ctx padding); SWA and recurrent caches at their allocated size");
  return { kvCapacityTokens, maxConcurrency: kvCapacityTokens / dep.context, maxContext: Math.min(maxContext, model.maxContext), availableKvBytes: Math.floor(available), basis };
}
