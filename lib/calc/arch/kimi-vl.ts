// Kimi-VL (model_type "kimi_vl", e.g. moonshotai/Kimi-VL-A3B-Instruct): a DeepSeek-style MLA + MoE text model in
// text_config (Moonlight, model_type deepseek_v3) plus the MoonViT vision tower and projector from vision_config.
// vLLM model_executor/models/kimi_vl.py KimiVLForConditionalGeneration builds the language model as
// DeepseekV2ForCausalLM from text_config, so the deepseek family builds the text layers here.
import type { ArchitectureFamily } from "./registry.js";
import { ConfigReader } from "./common.js";
import type { HfConfig } from "./common.js";
import { buildDeepseek } from "./deepseek.js";
import { textConfigOf } from "./patterns.js";
import { InputError } from "../types.js";
import type { ModelSpec, VisionSpec } from "../types.js";

const TEXT_TYPES = ["deepseek_v2", "deepseek_v3"];

/**
 * MoonViT tower + Kimi-VL projector (vLLM model_executor/models/moonvit.py MoonVitPretrainedModel, kimi_vl.py
 * KimiVLMultiModalProjector):
 *  - MoonVisionPatchEmbed: Conv2d(3 → h, kernel = stride = patch) with bias, Learnable2DInterpPosEmb weight
 *    (init_pos_emb_height × init_pos_emb_width × h); the 2D RoPE has no weights;
 *  - per MoonVitEncoderLayer: norm0/norm1 LayerNorm (weight+bias), wqkv h → 3h and wo h → h with bias
 *    (attn_bias=True), MLP2 fc0 h → intermediate and fc1 intermediate → h with bias; final_layernorm;
 *  - projector: pre_norm LayerNorm(h), linear_1 (h·kh·kw)² with bias, linear_2 (h·kh·kw) → text hidden with bias.
 * Defaults are MoonViTConfig's (vLLM transformers_utils/configs/moonvit.py; MoonViT-SO-400M).
 */
export function moonVitVision(config: HfConfig, id: string, textHidden: number): VisionSpec {
  const v = config.vision_config;
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InputError(`${id}: "vision_config" must be an object`);
  const vc = v as HfConfig;
  const r = new ConfigReader(vc, `${id} vision_config`);
  const h = r.optInt("hidden_size", 1152);
  const inter = r.optInt("intermediate_size", 4304);
  const layers = r.optInt("num_hidden_layers", 27);
  const patch = r.optInt("patch_size", 14);
  const posH = r.optInt("init_pos_emb_height", 64);
  const posW = r.optInt("init_pos_emb_width", 64);
  const mk = vc.merge_kernel_size ?? [2, 2];
  if (!Array.isArray(mk) || mk.length !== 2 || !mk.every((x) => Number.isInteger(x) && (x as number) > 0)) {
    throw new InputError(`${id}: vision_config.merge_kernel_size must be two positive integers, got ${JSON.stringify(mk)}`);
  }
  const ln = 2 * h;
  const embed = 3 * patch * patch * h + h + posH * posW * h;
  const block = 2 * ln + (h * 3 * h + 3 * h) + (h * h + h) + (h * inter + inter) + (inter * h + h);
  const tower = embed + layers * block + ln;
  const merged = h * (mk[0] as number) * (mk[1] as number);
  const projector = ln + (merged * merged + merged) + (merged * textHidden + textHidden);
  return {
    params: tower + projector,
    basis: `MoonViT tower ${layers}×${h} = ${tower} + Kimi-VL projector ${projector} (vLLM moonvit.py / kimi_vl.py)`,
  };
}

export function buildKimiVl(config: HfConfig, id: string): ModelSpec {
  if (config.text_config === undefined || config.text_config === null) throw new InputError(`${id}: config.json has no "text_config" object`);
  const text = textConfigOf(config, id);
  const textType = String(text.model_type ?? "deepseek_v3");
  if (!TEXT_TYPES.includes(textType)) throw new InputError(`${id}: text_config.model_type "${textType}" is not a Kimi-VL text model (expected ${TEXT_TYPES.join(" or ")})`);
  const m = buildDeepseek({ ...text, model_type: textType }, id);
  return { ...m, modelType: String(config.model_type), family: "kimi-vl", vision: moonVitVision(config, id, m.hiddenSize) };
}

export const kimiVlFamily: ArchitectureFamily = { name: "kimi-vl", modelTypes: ["kimi_vl"], build: buildKimiVl };
