// transformers (PyTorch) engine plugin: its memory rules (memory.ts, from src/transformers/cache_utils.py). It is a
// library, not a server: there is no command to export or launch.
import type { EnginePlugin } from "../engine-contract.js";
import { compileTransformers } from "./memory.js";
import { TRANSFORMERS_KERNELS } from "./speed.js";

export { HF_QKV_GROUP, HF_QKV_RESIDUAL } from "./memory.js";

export const manifest: EnginePlugin = {
  kind: "engine",
  name: "engine-transformers",
  version: "0.1.0",
  description: "Hugging Face transformers (PyTorch): DynamicCache / StaticCache / QuantizedCache and generate()'s peak as torch.cuda.max_memory_allocated counts it",
  id: "transformers",
  label: "transformers",
  aliases: ["hf"],
  loadsVision: true,
  defaults: { kvDtype: "f16" },
  compile: compileTransformers,
  speed: TRANSFORMERS_KERNELS,
  usableBytes: (memoryBytes) => memoryBytes,
  defaultFor: [],
  pipelineOrder: (devices) => devices,
  embedding: { home: "first-stage" },
  exportCommands: () => [],
};
