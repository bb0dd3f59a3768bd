// Architecture families: each turns an HF config.json (model_type) into a ModelSpec with one spec per layer.
// Adding a family = adding a file in this folder and one line in families.ts.
import type { ModelSpec } from "../types.js";
import type { HfConfig } from "./common.js";
import type { LayerPattern } from "./layer-pattern.js";

export interface ArchitectureFamily {
  name: string;
  /** HF model_type values this family handles (the outer one for multimodal configs). */
  modelTypes: string[];
  /** llama.cpp's GGUF general.architecture for these model types, when it is not the model_type itself. */
  gguf?: string;
  /** Which layers slide, chunk or keep recurrent state (absent: every layer is full attention unless the config says). */
  layers?: LayerPattern;
  build(config: HfConfig, id: string): ModelSpec;
}
