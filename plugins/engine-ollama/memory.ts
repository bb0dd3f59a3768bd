// Ollama's memory for a deployment. Ollama runs llama.cpp (ggml) underneath, so the buffers are the llama.cpp
// plugin's rules, asked with the shape Ollama's runner builds: one cache of num_ctx × num_parallel cells shared by
// the slots (llm/server.go NewLlamaServer: KvSize = NumCtx × numParallel; llama/llama.go NewContextParams passes it
// as n_ctx with n_seq_max = parallel), n_batch 512, flash attention and the KV type as Ollama decides them.
import { fit } from "../../lib/calc/index.js";
import type { Deployment, DeploymentShape, EngineModel, EngineTable, FitBudget, FitResult, ModelSpec } from "../../lib/calc/index.js";
import { compileLlamaCpp } from "../engine-llamacpp/memory.js";
import { LLAMACPP_KERNELS } from "../engine-llamacpp/speed.js";
import { estimateGpuLayers, ollamaGraphSize, ollamaKvPerLayer, ollamaOutputBytes } from "./estimate.js";
import { OLLAMA_DEFAULT_RELEASE, OLLAMA_NUM_BATCH, ollamaDefaultFlashAttention, ollamaMinimumMemory } from "./releases.js";

export interface OllamaShape {
  release: string;
  flashAttention: boolean;
  /** The KV type Ollama really uses (f16 unless flash attention is on). */
  kvType: string;
  warnings: string[];
}

/**
 * What Ollama makes of a shape (llm/server.go NewLlamaServer): OLLAMA_KV_CACHE_TYPE is honoured only with flash
 * attention on ("quantized kv cache requested but flash attention disabled" → f16); K and V share one type.
 */
export function ollamaShape(shape: DeploymentShape): OllamaShape {
  const release = shape.options?.ollamaVersion ?? OLLAMA_DEFAULT_RELEASE;
  const flashAttention = shape.options?.flashAttention ?? ollamaDefaultFlashAttention(release);
  const warnings: string[] = [];
  let kvType: string = shape.kvDtypeK;
  if (shape.kvDtypeK !== shape.kvDtypeV) warnings.push(`Ollama has one KV type for K and V (OLLAMA_KV_CACHE_TYPE): planned with ${shape.kvDtypeK} for both`);
  if (!flashAttention && kvType !== "f16") {
    warnings.push(`Ollama ignores OLLAMA_KV_CACHE_TYPE=${kvType} without flash attention (llm/server.go NewLlamaServer): planned with f16`);
    kvType = "f16";
  }
  return { release, flashAttention, kvType, warnings };
}

/** The llama.cpp shape Ollama's runner creates. */
export function llamaShapeOf(shape: DeploymentShape, o: OllamaShape = ollamaShape(shape)): DeploymentShape {
  const kv = o.kvType as DeploymentShape["kvDtypeK"];
  return { ...shape, kvDtypeK: kv, kvDtypeV: kv, options: { ...shape.options, kvUnified: true, flashAttention: o.flashAttention, batch: shape.options?.batch ?? OLLAMA_NUM_BATCH, ubatch: shape.options?.ubatch ?? OLLAMA_NUM_BATCH } };
}

export function compileOllama(model: ModelSpec, shape: DeploymentShape): EngineTable {
  const o = ollamaShape(shape);
  const t = compileLlamaCpp(model, llamaShapeOf(shape, o));
  // num_ctx above the trained context is cut to it (llm/server.go NewLlamaServer "requested context size too large").
  const cells = (context: number, seqs: number) => Math.min(context, model.maxContext) * seqs;
  return {
    ...t,
    kvBytes: (c, s) => t.kvBytes(cells(c, s), s),
    kvPerLayer: (c, s) => t.kvPerLayer(cells(c, s), s),
    kvBytesPerToken: (c, s) => t.kvBytesPerToken(cells(c, s), s),
    activationBytes: (c, s) => t.activationBytes(cells(c, s), s),
    overheadBytes: (c, s) => t.overheadBytes(cells(c, s), s),
    cacheBasis: [`Ollama ${o.release}: one llama.cpp cache of num_ctx × num_parallel cells (llm/server.go NewLlamaServer KvSize), flash attention ${o.flashAttention ? "on" : "off"}, KV ${o.kvType}`, ...t.cacheBasis],
    warnings: [...o.warnings, ...t.warnings],
  };
}

/** The memory rules alone (the generic KV-budget fit runs over them). */
const OLLAMA_MEMORY: EngineModel = {
  id: "ollama",
  label: "Ollama",
  loadsVision: true,
  defaults: { kvDtype: "f16" },
  compile: compileOllama,
  speed: { kernels: (device, shape) => LLAMACPP_KERNELS.kernels(device, llamaShapeOf(shape)) },
};

/**
 * `hwledger fit --engine ollama`: the KV budget over llama.cpp's buffers (the generic rule), and, given the GPU's
 * memory, how many layers Ollama itself would put on it (estimate.ts, llm/memory.go estimateGPULayers with the
 * device's memory as the free memory Ollama sees): fewer than all means Ollama runs the rest on the CPU.
 */
export function ollamaFit(model: ModelSpec, dep: Deployment, budget: FitBudget): FitResult {
  const r = fit(model, dep, OLLAMA_MEMORY, budget);
  if (budget.gpuMemoryBytes === undefined) return r;
  const o = ollamaShape(dep);
  const batch = Math.min(dep.context, dep.options?.batch ?? OLLAMA_NUM_BATCH);
  const kv = ollamaKvPerLayer(model, dep.context, dep.seqs, batch, o.kvType);
  const g = ollamaGraphSize(model, dep.context * dep.seqs, batch, kv.reduce((a, b) => a + b, 0));
  const { layerWeights, outputBytes } = ollamaOutputBytes(model, dep.weights);
  const library = dep.options?.device?.deviceClass === "metal" ? "metal" : "cuda";
  const e = estimateGpuLayers({ gpus: [{ freeBytes: budget.gpuMemoryBytes, minimumBytes: ollamaMinimumMemory(library) }], library, layerWeights, kvPerLayer: kv, outputBytes, graphPartial: g.partial, graphFull: g.full, numGpu: dep.options?.gpuLayers, release: o.release });
  const gib = (b: number) => (b / 1024 ** 3).toFixed(2);
  const line = `Ollama ${o.release} would offload ${e.layers}/${e.layersModel} layers to this GPU (${gib(e.allocations[0])} GiB estimated; llm/memory.go estimateGPULayers, its ${g.basis}, the device's memory taken as free)${e.fullyLoaded ? "" : `: the other ${e.layersModel - e.layers} run on the CPU`}`;
  return { ...r, basis: [...r.basis, line] };
}
