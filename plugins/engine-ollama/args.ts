// Ollama commands reproducing a plan: the server's environment (envconfig/config.go: OLLAMA_NUM_PARALLEL,
// OLLAMA_FLASH_ATTENTION, OLLAMA_KV_CACHE_TYPE, OLLAMA_CONTEXT_LENGTH) and a Modelfile whose PARAMETERs are
// api/types.go Options (num_ctx per slot, num_gpu layers, num_batch).
import { InputError } from "../../lib/calc/index.js";
import type { Deployment } from "../../lib/calc/index.js";
import { exported } from "../engine-contract.js";
import type { ExportOptions, ExportedCommand } from "../engine-contract.js";
import { ollamaShape } from "./memory.js";

/** llama/llama.go kvCacheTypeFromStr: the only cache types Ollama passes on. */
const OLLAMA_KV_TYPES = ["f16", "q8_0", "q4_0"];

/** The Modelfile text for a plan. */
export function ollamaModelfile(from: string, dep: Deployment): string {
  const o = dep.options ?? {};
  const lines = [`FROM ${from}`, `PARAMETER num_ctx ${dep.context}`];
  if (o.gpuLayers !== undefined) lines.push(`PARAMETER num_gpu ${o.gpuLayers}`);
  if (o.batch !== undefined) lines.push(`PARAMETER num_batch ${o.batch}`);
  return lines.join("\n") + "\n";
}

/** A model name Ollama accepts (lower case, no slash). */
export function ollamaModelName(modelId: string, weights: string): string {
  return `${modelId.split("/").pop()}-${weights}`.toLowerCase().replace(/[^a-z0-9._-]+/g, "-");
}

export function ollamaExport(modelId: string, dep: Deployment, opts: ExportOptions = {}): ExportedCommand[] {
  const s = ollamaShape(dep);
  if (dep.kvDtypeK !== dep.kvDtypeV) throw new InputError("Ollama has one KV cache type for K and V (OLLAMA_KV_CACHE_TYPE)");
  if (!OLLAMA_KV_TYPES.includes(dep.kvDtypeK)) throw new InputError(`Ollama has no KV cache type "${dep.kvDtypeK}" (use ${OLLAMA_KV_TYPES.join(", ")})`);
  if (dep.kvDtypeK !== "f16" && !s.flashAttention) throw new InputError("Ollama quantizes the KV cache only with flash attention on (llm/server.go NewLlamaServer)");
  const env = [`OLLAMA_NUM_PARALLEL=${dep.seqs}`, `OLLAMA_FLASH_ATTENTION=${s.flashAttention ? 1 : 0}`];
  if (dep.kvDtypeK !== "f16") env.push(`OLLAMA_KV_CACHE_TYPE=${dep.kvDtypeK}`);
  const name = ollamaModelName(modelId, dep.weights);
  const from = opts.gguf ?? `./${modelId.split("/").pop()}-${dep.weights}.gguf`;
  const modelfile = ollamaModelfile(from, dep);
  return [
    exported("ollama", ["env", ...env, "ollama", "serve"], `Ollama ${s.release}: OLLAMA_NUM_PARALLEL slots each get num_ctx tokens (server/sched.go)${dep.tp * dep.pp > 1 ? "; Ollama splits layers over the host's GPUs itself (no tensor parallel)" : ""}`),
    { ...exported("ollama", ["ollama", "create", name, "-f", "Modelfile"], `Modelfile: ${modelfile.trim().split("\n").join("; ")}`), file: { name: "Modelfile", text: modelfile } },
  ];
}
