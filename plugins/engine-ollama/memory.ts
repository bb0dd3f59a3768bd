// Ollama's memory for a deployment. Ollama runs llama.cpp (ggml) underneath, so the buffers are the llama.cpp
// plugin's rules, asked with the shape Ollama's runner builds: one cache of num_ctx × num_parallel cells shared by
// the slots (llm/server.go NewLlamaServer: KvSize = NumCtx × numParallel; llama/llama.go NewContextParams passes it
// as n_ctx with n_seq_max = parallel), n_batch 512, flash attention and the KV type as Ollama decides them.
import type { DeploymentShape, EngineTable, ModelSpec } from "../../lib/calc/index.js";
import { compileLlamaCpp } from "../engine-llamacpp/memory.js";
import { OLLAMA_DEFAULT_RELEASE, OLLAMA_NUM_BATCH, ollamaDefaultFlashAttention } from "./releases.js";

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
