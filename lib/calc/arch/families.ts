// Every architecture family known to modelFromHfConfig. One line per family file.
import type { ArchitectureFamily } from "./registry.js";
import { llamaFamily, qwen2Family, qwen3Family } from "./llama.js";

export const FAMILIES: ArchitectureFamily[] = [llamaFamily, qwen2Family, qwen3Family];
