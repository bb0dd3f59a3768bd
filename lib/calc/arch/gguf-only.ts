// Families hwledger reads only from GGUF headers (no config.json builder here yet): their GGUF architecture name, the
// HF model_types that convert to it, and their layer pattern (llama.cpp src/models/<arch>.cpp).
import type { LayerPattern } from "./layer-pattern.js";

export interface GgufOnlyFamily {
  gguf: string;
  modelTypes: string[];
  layers: LayerPattern;
}

export const GGUF_ONLY: GgufOnlyFamily[] = [
  { gguf: "gemma3n", modelTypes: ["gemma3n", "gemma3n_text"], layers: { swaPeriod: 5 } },
  { gguf: "cohere2", modelTypes: ["cohere2"], layers: { swaPeriod: 4 } },
  { gguf: "exaone4", modelTypes: ["exaone4"], layers: { swaPeriod: 4 } },
  { gguf: "olmo2", modelTypes: ["olmo2"], layers: { swaPeriod: 4 } },
  { gguf: "qwen35", modelTypes: ["qwen3_5"], layers: { recurrent: { variant: "gated-delta-net", layers: { fullEvery: 4 } } } },
  { gguf: "granitehybrid", modelTypes: ["granitemoehybrid"], layers: { recurrent: { variant: "mamba2", layers: "no-kv-heads" } } },
];
