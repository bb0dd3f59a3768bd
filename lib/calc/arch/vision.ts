// Vision towers of multimodal checkpoints, counted from vision_config so the weights include them.
// Towers are not split into GGUF tensors here (llama.cpp keeps them in a separate mmproj file): one count each.
import { ConfigReader } from "./common.js";
import type { HfConfig } from "./common.js";
import { InputError } from "../types.js";
import type { VisionSpec } from "../types.js";

function visionReader(config: HfConfig, id: string): ConfigReader {
  const v = config.vision_config;
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InputError(`${id}: "vision_config" must be an object`);
  return new ConfigReader(v as HfConfig, `${id} vision_config`);
}

/** Linear layer parameters: weight (in × out) plus an optional bias (out). */
const linear = (inDim: number, outDim: number, bias: boolean) => inDim * outDim + (bias ? outDim : 0);

/**
 * SigLIP vision tower (transformers models/siglip/modeling_siglip.py) + the Gemma 3 projector.
 * SiglipVisionEmbeddings: Conv2d patch embedding with bias, learned position embedding per patch;
 * SiglipEncoderLayer: layer_norm1/2 (weight+bias), q/k/v/out_proj with bias, mlp fc1/fc2 with bias;
 * post_layernorm; no pooling head when vision_use_head is false.
 * Gemma3MultiModalProjector (models/gemma3/modeling_gemma3.py): mm_input_projection_weight
 * (vision hidden × text hidden, no bias) + mm_soft_emb_norm (RMSNorm over the vision hidden size); the avg pool has no weights.
 * Defaults are SiglipVisionConfig's (models/siglip/configuration_siglip.py).
 */
export function siglipGemma3Vision(config: HfConfig, id: string, textHidden: number): VisionSpec {
  const r = visionReader(config, id);
  const h = r.optInt("hidden_size", 768);
  const inter = r.optInt("intermediate_size", 3072);
  const layers = r.optInt("num_hidden_layers", 12);
  const channels = r.optInt("num_channels", 3);
  const image = r.optInt("image_size", 224);
  const patch = r.optInt("patch_size", 16);
  if (r.optBool("vision_use_head", true)) {
    throw new InputError(`${id}: vision_config.vision_use_head true (SigLIP pooling head) is not a Gemma 3 layout`);
  }
  const patches = (image / patch) ** 2;
  const embeddings = linear(channels * patch * patch, h, true) + patches * h;
  const perLayer = 2 * (2 * h) + 4 * linear(h, h, true) + linear(h, inter, true) + linear(inter, h, true);
  const tower = embeddings + layers * perLayer + 2 * h;
  const projector = h * textHidden + h;
  return {
    params: tower + projector,
    basis: `SigLIP tower ${layers}×${h} (${patches} patches of ${patch}px at ${image}px) = ${tower} + Gemma 3 projector ${projector} (transformers siglip/gemma3 modeling)`,
  };
}

/**
 * Llama 4 vision tower (transformers models/llama4/modeling_llama4.py): Llama4UnfoldConvolution (linear, no bias),
 * class_embedding, positional_embedding_vlm (patches + 1), layernorm_pre/post, encoder layers
 * (input/post_attention LayerNorm, q/k/v/o with bias, fc1/fc2 with bias), Llama4VisionPixelShuffleMLP
 * (Llama4VisionMLP2: fc1 intermediate_size → projector_input_dim, fc2 projector_output_dim², no bias)
 * and Llama4MultiModalProjector (vision_output_dim → text hidden, no bias).
 */
export function llama4Vision(config: HfConfig, id: string, textHidden: number): VisionSpec {
  const r = visionReader(config, id);
  const h = r.int("hidden_size");
  const inter = r.int("intermediate_size");
  const layers = r.int("num_hidden_layers");
  const image = r.int("image_size");
  const patch = r.int("patch_size");
  const projIn = r.int("projector_input_dim");
  const projOut = r.int("projector_output_dim");
  const visionOut = r.int("vision_output_dim");
  r.done();
  const channels = r.optInt("num_channels", 3);
  const positions = (image / patch) ** 2 + 1;
  const embeddings = channels * patch * patch * h + h + positions * h + 2 * (2 * h);
  const perLayer = 2 * (2 * h) + 4 * linear(h, h, true) + linear(h, inter, true) + linear(inter, h, true);
  const adapter = linear(inter, projIn, false) + linear(projOut, projOut, false);
  const projector = linear(visionOut, textHidden, false);
  const tower = embeddings + layers * perLayer;
  return {
    params: tower + adapter + projector,
    basis: `Llama 4 vision tower ${layers}×${h} = ${tower} + pixel-shuffle MLP ${adapter} + projector ${projector} (transformers llama4 modeling)`,
  };
}
