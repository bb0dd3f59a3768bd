// Every architecture family known to modelFromHfConfig. One line per family file.
import type { ArchitectureFamily } from "./registry.js";
import { llamaFamily, qwen2Family, qwen3Family } from "./llama.js";
import { gemmaFamily, gemma2Family, gemma3Family } from "./gemma.js";
import { phiFamily, phi3Family } from "./phi.js";
import { falconFamily } from "./falcon.js";
import { starcoderFamily } from "./starcoder.js";
import { llama4Family } from "./llama4.js";
import { mixtralFamily } from "./mixtral.js";
import { qwen2MoeFamily, qwen3MoeFamily } from "./qwen-moe.js";
import { deepseekFamily } from "./deepseek.js";
import { gptOssFamily } from "./gpt-oss.js";
import { mambaFamily, mamba2Family } from "./mamba.js";
import { jambaFamily } from "./jamba.js";
import { qwen3NextFamily, qwen35MoeFamily } from "./qwen3-next.js";
import { nemotronHFamily } from "./nemotron-h.js";
import { kimiVlFamily } from "./kimi-vl.js";
import { gemma4Family } from "./gemma4.js";
import { gptNeoxFamily } from "./gpt-neox.js";
import { gpt2Family, optFamily } from "./gpt2.js";

export const FAMILIES: ArchitectureFamily[] = [llamaFamily, qwen2Family, qwen3Family];
// MoE, MLA, SSM and hybrid families (catalog part 2).
FAMILIES.push(mixtralFamily, qwen2MoeFamily, qwen3MoeFamily, deepseekFamily, gptOssFamily, mambaFamily, mamba2Family, jambaFamily, qwen3NextFamily, qwen35MoeFamily, nemotronHFamily);
// Dense, sliding-window, multimodal and Llama 4 families (catalog part 1).
FAMILIES.push(gemmaFamily, gemma2Family, gemma3Family, phiFamily, phi3Family, falconFamily, starcoderFamily, llama4Family);
// Kimi-VL: DeepSeek-style text model + MoonViT tower (catalog from HF pages).
FAMILIES.push(kimiVlFamily);
// Gemma 4: sliding/global attention with per-type KV geometry, k_eq_v, KV-shared layers, MoE beside the dense MLP, PLE.
FAMILIES.push(gemma4Family);
// Legacy non-gated families: GPT-NeoX (Pythia), GPT-2, OPT.
FAMILIES.push(gptNeoxFamily, gpt2Family, optFamily);
