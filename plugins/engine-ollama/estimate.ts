// Ollama's own memory estimate and layer placement, ported from ollama/ollama v0.11.6–v0.12.10: llm/memory.go
// estimateGPULayers (layers per GPU, tensor split, per-GPU allocations) and fs/ggml/ggml.go GraphSize (its KV and
// compute-graph formulas); the placement's older rules (before 0.6.3 and 0.7.0) follow `release`. These are Ollama's
// *predictions*, which decide how many layers it offloads and what it prints in `msg=offload`; the buffers llama.cpp
// then allocates are the llama.cpp plugin's rules (memory.ts).
import { weightBytes } from "../../lib/calc/index.js";
import type { ModelSpec } from "../../lib/calc/index.js";
import { OLLAMA_DEFAULT_RELEASE, atLeast } from "./releases.js";

export interface OllamaGpu {
  /** Free memory Ollama sees on the GPU (memory.available). */
  freeBytes: number;
  /** discover MinimumMemory (releases.ts ollamaMinimumMemory). */
  minimumBytes: number;
}

export interface OllamaEstimateInput {
  gpus: OllamaGpu[];
  library: "cuda" | "rocm" | "metal";
  /** Weights of each blk.N. */
  layerWeights: number[];
  /** Ollama's KV estimate per blk.N (ollamaKvPerLayer). */
  kvPerLayer: number[];
  /** output_norm + output (or token_embd when tied): placed last, as one more "layer". */
  outputBytes: number;
  /** Ollama-engine vision weights and graph, loaded with the output layer from v0.7.1 (commit d755577); before, on the first GPU (gpuZeroOverhead: not ported). */
  projectorWeights?: number;
  projectorGraph?: number;
  graphPartial: number;
  graphFull: number;
  /** OLLAMA_GPU_OVERHEAD (default 0). */
  overheadBytes?: number;
  /** num_gpu; -1 (default) = as many as fit. */
  numGpu?: number;
  /** The Ollama release whose EstimateGPULayers runs (default OLLAMA_DEFAULT_RELEASE). */
  release?: string;
}

export interface OllamaEstimate {
  /** layers.offload (the output layer counts as one). */
  layers: number;
  /** layers.model = blocks + 1. */
  layersModel: number;
  tensorSplit: number[];
  /** memory.required.allocations per GPU. */
  allocations: number[];
  fullyLoaded: boolean;
  kvTotal: number;
  /** memory.required.partial (sum of allocations) and memory.required.full (+ what overflowed to the CPU). */
  requiredPartial: number;
  requiredFull: number;
  graph: number;
}

/**
 * Ollama's KV estimate per layer (fs/ggml/ggml.go GraphSize): context × parallel × (key_length + value_length) ×
 * head_count_kv × bytes per element (f16 2, q8_0 1, q4_0 0.5: kvCacheBytesPerElement). MLA models count expanded
 * heads (GGUF key_length 192 / value_length 128 of deepseek2). gemma3 only: layers with (i+1) % 6 != 0 hold
 * numParallel × sliding_window + batch tokens. Every other sliding model gets the full context.
 */
export function ollamaKvPerLayer(model: ModelSpec, numCtx: number, parallel: number, batch: number, kvType: string): number[] {
  const bpe = kvType === "q8_0" ? 1 : kvType === "q4_0" ? 0.5 : 2;
  const ctx = numCtx * parallel;
  const gemma3 = /^gemma3/.test(model.modelType);
  return model.layers.map((l, i) => {
    const c = l.cache;
    let kv = 0;
    if (c.kind === "full" || c.kind === "sliding" || c.kind === "chunked") kv = c.nKvHeads * (c.headDimK + c.headDimV);
    else if (c.kind === "mla") kv = c.nHeads * (c.qkNopeHeadDim + c.ropeDim + c.vHeadDim);
    const tokens = gemma3 && c.kind === "sliding" && (i + 1) % 6 !== 0 ? parallel * c.window + batch : ctx;
    return Math.floor(tokens * kv * bpe);
  });
}

/** Largest KV width over layers (HeadCountKVMax × key/value length). */
function kvGeometry(model: ModelSpec): { headsKV: number; headK: number; headV: number } {
  let headsKV = 0, headK = 0, headV = 0;
  for (const l of model.layers) {
    const c = l.cache;
    if (c.kind === "full" || c.kind === "sliding" || c.kind === "chunked") {
      headsKV = Math.max(headsKV, c.nKvHeads); headK = Math.max(headK, c.headDimK); headV = Math.max(headV, c.headDimV);
    } else if (c.kind === "mla") {
      headsKV = Math.max(headsKV, c.nHeads); headK = Math.max(headK, c.qkNopeHeadDim + c.ropeDim); headV = Math.max(headV, c.vHeadDim);
    }
  }
  return { headsKV, headK, headV };
}

/**
 * fs/ggml/ggml.go GraphSize: Ollama's compute-graph estimate for full and partial offload, for the architectures
 * ported here (llama, gemma*, qwen2, deepseek2); any other falls back to partial = GQA × KV total / 6 as
 * estimateGPULayers does when GraphSize returns 0. context = num_ctx × parallel, batch = min(num_ctx, num_batch).
 */
export function ollamaGraphSize(model: ModelSpec, context: number, batch: number, kvTotal: number): { partial: number; full: number; basis: string } {
  const emb = model.hiddenSize, heads = model.nHeads, vocab = model.vocabSize;
  const { headsKV, headK } = kvGeometry(model);
  const headDim = Math.floor(emb / heads);
  const max = Math.max;
  const t = model.modelType;
  if (t === "llama" && !model.layers.some((l) => l.moe)) {
    const full = max(4 * batch * (1 + 4 * emb + context * (1 + heads)), 4 * batch * (emb + vocab));
    const partial = 4 * batch * emb + max(4 * batch * (1 + emb + max(context, emb)) + Math.floor((emb * emb * 9) / 16) + 4 * context * (batch * heads + headDim * headsKV), 4 * batch * (emb + vocab) + Math.floor((emb * vocab * 105) / 128));
    return { full, partial, basis: "GraphSize llama" };
  }
  if (/^gemma/.test(t)) {
    const full = max(4 * batch * (emb + vocab), 4 * batch * (2 + context + context * heads + 2 * emb + 2 * headK * heads));
    const partial = max(4 * emb * batch + Math.floor((emb * vocab * 105) / 128) + 4 * vocab * batch, 4 * batch * (2 * emb + 1 + 2 * headK * heads + context + context * heads) + 4 * headK * context * 8 + Math.floor((emb * headK * heads * 9) / 16));
    return { full, partial, basis: "GraphSize gemma" };
  }
  if (t === "qwen2") {
    const full = max(4 * batch * (emb + vocab), 4 * batch * (1 + 2 * emb + context + context * heads));
    const partial = max(4 * batch * (emb + vocab) + Math.floor((emb * vocab * 105) / 128), 4 * (batch * (1 + 2 * emb + context * (1 + heads)) + emb * (1 + context)));
    return { full, partial, basis: "GraphSize qwen2" };
  }
  if (/^deepseek_v[23]$/.test(t)) {
    const full = max(4 * batch * (3 * emb + vocab), 4 * batch * (3 * emb + 2 + context * (1 + headsKV) + 2 * headK * headsKV));
    const partial = max(4 * batch * (3 * emb + vocab) + Math.floor((emb * vocab * 105) / 128), 4 * batch * (2 * emb + 1 + 2 * headK * headsKV + context + context * headsKV) + 4 * headK * context * headsKV + Math.floor((emb * headK * headsKV * 9) / 16));
    return { full, partial, basis: "GraphSize deepseek2" };
  }
  const gqa = Math.floor(heads / max(1, headsKV));
  const partial = Math.floor((gqa * kvTotal) / 6);
  return { full: partial, partial, basis: "estimateGPULayers fallback: GQA × KV / 6" };
}

/** output_norm + output, or token_embd when the output is tied (estimateGPULayers memoryLayerOutput). */
export function ollamaOutputBytes(model: ModelSpec, weights: string): { layerWeights: number[]; outputBytes: number } {
  const w = weightBytes(model, weights);
  const of = (role: string) => model.globals.filter((t) => t.role === role).reduce((a, t) => a + w.bytesOf(t, -1), 0);
  const head = of("lm_head") || of("embedding");
  return { layerWeights: w.perLayer, outputBytes: of("norm") + head };
}

/**
 * llm/memory.go estimateGPULayers: every GPU that can hold its minimum memory, the larger graph and two layers
 * (gpuZeroOverhead on the first) gets blk.0 + its KV as a buffer; layers are then placed from the last block down
 * (from blk.0 up before 0.7.0),
 * block i on GPU i % (GPUs with space), a GPU dropping out when the next layer does not fit under free − overhead −
 * larger graph; the output layer (with an Ollama-engine projector) comes last; each GPU with layers adds the full
 * graph if everything fit, else the partial one.
 */
export function estimateGpuLayers(x: OllamaEstimateInput): OllamaEstimate {
  const overhead = x.overheadBytes ?? 0;
  const numGpu = x.numGpu ?? -1;
  const release = x.release ?? OLLAMA_DEFAULT_RELEASE;
  const blocks = x.layerWeights.length;
  let graphPartial = x.graphPartial;
  let graphFull = x.graphFull || graphPartial;
  // "on metal there's no partial offload overhead"; "multigpu should always use the partial graph size"
  if (x.library === "metal") graphPartial = graphFull;
  else if (x.gpus.length > 1) graphFull = graphPartial;
  const graphMax = Math.max(graphPartial, graphFull);
  const kvTotal = x.kvPerLayer.reduce((a, b) => a + b, 0);
  // Before 0.6.3 GraphSize returned one KV total and every block got kv / BlockCount (llm/memory.go EstimateGPULayers
  // at v0.5.12: "KV is proportional to the number of layers"); per-layer kv[i] from commit f66216e, v0.6.3.
  const kvOf = atLeast(release, "0.6.3") ? (i: number) => x.kvPerLayer[i] ?? 0 : () => Math.floor(kvTotal / Math.max(1, blocks));
  // Blocks are placed from blk.0 up before 0.7.0 (`for i := range BlockCount`), from the last block down since
  // commit 0478d44 "Fixed over vram allocation due to small initial layer sizes" (v0.7.0; its largest-layer buffer
  // lived in v0.7.0 only, reverted by 3fe74fb, and is not ported).
  const lastFirst = atLeast(release, "0.7.0");
  let layerSize = (x.layerWeights[0] ?? 0) + kvOf(0);
  const tensorSplit = x.gpus.map(() => 0);
  const alloc = x.gpus.map(() => 0);
  let withSpace: number[] = [];
  for (let i = 0; i < x.gpus.length; i++) {
    const g = x.gpus[i];
    if (g.freeBytes < overhead + graphMax + g.minimumBytes + 2 * layerSize) continue;
    withSpace.push(i);
    alloc[i] += g.minimumBytes + layerSize;
  }
  let overflow = 0;
  let layerCount = 0;
  for (let k = 0; k < blocks; k++) {
    const i = lastFirst ? blocks - 1 - k : k;
    layerSize = x.layerWeights[i] + kvOf(i);
    if (numGpu >= 0 && layerCount >= numGpu) {
      if (lastFirst) overflow += layerSize;
      continue;
    }
    for (let j = withSpace.length; j > 0; j--) {
      const g = withSpace[i % j];
      if (x.gpus[g].freeBytes > overhead + alloc[g] + graphMax + layerSize) {
        alloc[g] += layerSize;
        tensorSplit[g]++;
        layerCount++;
        break;
      }
      withSpace = withSpace.filter((_, n) => n !== i % j);
    }
    if (lastFirst && !withSpace.length) overflow += layerSize;
  }
  // Before 0.7.0 every block left over counts as the last block's size (`for i := layerCount; i < BlockCount; i++
  // { overflow += layerSize }`, v0.5.12).
  if (!lastFirst && layerCount < blocks) overflow += (blocks - layerCount) * layerSize;
  let fullyLoaded = layerCount >= blocks;
  const last = x.outputBytes + (x.projectorWeights ?? 0) + (x.projectorGraph ?? 0);
  if (last > 0) {
    if (numGpu < 0 || layerCount < numGpu) {
      for (let j = withSpace.length; j > 0; j--) {
        const g = withSpace[layerCount % j];
        if (x.gpus[g].freeBytes > overhead + alloc[g] + graphMax + last) {
          alloc[g] += last;
          tensorSplit[g]++;
          layerCount++;
          break;
        }
      }
    }
    if (layerCount < blocks + 1) {
      fullyLoaded = false;
      overflow += last;
    }
  }
  const graph = fullyLoaded ? graphFull : graphPartial;
  for (let i = 0; i < alloc.length; i++) if (tensorSplit[i] > 0) alloc[i] += graph;
  const requiredPartial = alloc.reduce((a, b) => a + b, 0);
  return { layers: layerCount, layersModel: blocks + 1, tensorSplit, allocations: alloc, fullyLoaded, kvTotal, requiredPartial, requiredFull: requiredPartial + overflow, graph };
}

/**
 * What Ollama prints in `msg=offload` for its KV and graph estimate (memory.required.kv, memory.graph.full/partial):
 * context = num_ctx × parallel, batch = min(num_ctx, num_batch), f16 unless a KV type is given; the printed graphs
 * are after estimateGPULayers' adjustment (Metal: partial = full; several GPUs: full = partial).
 */
export function ollamaPrintedEstimate(model: ModelSpec, numCtx: number, parallel: number, gpus: number, library: "cuda" | "rocm" | "metal" = "cuda", kvType = "f16", numBatch = 512): { kv: number; graphFull: number; graphPartial: number; basis: string } {
  const batch = Math.min(numCtx, numBatch);
  const kv = ollamaKvPerLayer(model, numCtx, parallel, batch, kvType).reduce((a, b) => a + b, 0);
  const g = ollamaGraphSize(model, numCtx * parallel, batch, kv);
  let { full, partial } = g;
  if (library === "metal") partial = full;
  else if (gpus > 1) full = partial;
  return { kv, graphFull: full, graphPartial: partial, basis: g.basis };
}
