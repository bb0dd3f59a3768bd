// Ollama engine plugin. Ollama runs llama.cpp (ggml) underneath: the buffers are the llama.cpp plugin's rules under
// the shape Ollama's runner builds (memory.ts); Ollama's own defaults per release (releases.ts), its estimate and
// layer placement (estimate.ts, llm/memory.go estimateGPULayers), its Modelfile export (args.ts) and its logs
// (parse.ts) live here. Sources: github.com/ollama/ollama at the tags named beside each rule.
import type { EnginePlugin } from "../engine-contract.js";
import { LLAMACPP_KERNELS } from "../engine-llamacpp/speed.js";
import { ollamaExport } from "./args.js";
import { compileOllama, llamaShapeOf, ollamaFit } from "./memory.js";
import { ollamaMinimumMemory } from "./releases.js";

export { estimateGpuLayers, ollamaGraphSize, ollamaKvPerLayer, ollamaOutputBytes, ollamaPrintedEstimate } from "./estimate.js";
export type { OllamaEstimate, OllamaEstimateInput, OllamaGpu } from "./estimate.js";
export { humanBytes, ollamaActuals, ollamaPlacementFromLog, parseOllamaLog } from "./parse.js";
export type { OllamaLogFacts, OllamaOffload, OllamaRunnerCmd } from "./parse.js";
export { ollamaModelfile, ollamaModelName } from "./args.js";
export { compileOllama, llamaShapeOf, ollamaFit, ollamaShape } from "./memory.js";
export * from "./releases.js";

export const manifest: EnginePlugin = {
  kind: "engine",
  name: "engine-ollama",
  version: "0.1.0",
  description: "Ollama (llama.cpp underneath): its defaults per release, layer placement over GPUs, Modelfile export, log parsing",
  id: "ollama",
  label: "Ollama",
  aliases: [],
  // Ollama-engine models (gemma3, mistral3, llama4 …) load the vision tower with the output layer (llm/memory.go
  // VisionGraphSize); llama-runner models take a separate projector file.
  loadsVision: true,
  defaults: { kvDtype: "f16" },
  compile: compileOllama,
  fit: ollamaFit,
  // The same ggml kernels as llama.cpp, with the flash-attention setting Ollama resolves.
  speed: { kernels: (device, shape) => LLAMACPP_KERNELS.kernels(device, llamaShapeOf(shape)) },
  // Ollama keeps its MinimumMemory free per GPU (discover/gpu.go 457 MiB CUDA/ROCm, gpu_darwin.go 512 MiB Metal);
  // OLLAMA_GPU_OVERHEAD adds to it (default 0).
  usableBytes: (memoryBytes, dep) => Math.max(0, memoryBytes - ollamaMinimumMemory(dep.options?.device?.deviceClass === "metal" ? "metal" : "cuda")),
  // Never the default engine of a device class, and no weights are Ollama's alone (GGUF files are llama.cpp's too).
  defaultFor: [],
  pipelineOrder: (devices) => devices,
  embedding: { home: "host", basis: "Ollama's llama.cpp keeps token_embd in host RAM (src/llama-model.cpp load_tensors: input layer on the CPU)" },
  exportCommands: ollamaExport,
};
