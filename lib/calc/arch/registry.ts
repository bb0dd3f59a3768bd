// Architecture families: each turns an HF config.json (model_type) into a ModelSpec with one spec per layer.
// Adding a family = adding a file in this folder and one line in families.ts.
import type { ModelSpec } from "../types.js";
import type { HfConfig } from "./common.js";

export interface ArchitectureFamily {
  name: string;
  /** HF model_type values this family handles (the outer one for multimodal configs). */
  modelTypes: string[];
  build(config: HfConfig, id: string): ModelSpec;
}
