// modelFromHfConfig: the one entry from an HF config.json to a ModelSpec.
import { InputError } from "../types.js";
import type { ModelSpec } from "../types.js";
import type { HfConfig } from "./common.js";
import { FAMILIES } from "./families.js";
import { GGUF_ONLY } from "./gguf-only.js";
import type { LayerPattern } from "./layer-pattern.js";
import { buildLlamaLike } from "./llama.js";
import { buildMambaSsm } from "./mamba.js";
import { schemeFromQuantizationConfig } from "../quant-config.js";
import { textConfigOf } from "./patterns.js";
import { ropeOf } from "./rope.js";
import { HF_FIELD_NAMES, validateModelSpec } from "./validate.js";

const BY_TYPE = new Map<string, (typeof FAMILIES)[number]>();
for (const f of FAMILIES) for (const t of f.modelTypes) BY_TYPE.set(t, f);

/** GGUF architecture name per HF model_type, and the layer pattern per GGUF architecture (families' declarations). */
const GGUF_OF_TYPE = new Map<string, string>();
const PATTERN_OF_GGUF = new Map<string, LayerPattern>();
for (const f of [...FAMILIES, ...GGUF_ONLY]) {
  for (const t of f.modelTypes) GGUF_OF_TYPE.set(t, f.gguf ?? t);
  if (f.layers) for (const t of f.gguf ? [f.gguf] : f.modelTypes) PATTERN_OF_GGUF.set(t, f.layers);
}

/** llama.cpp's architecture name for a model: a GGUF's own, else what its model_type converts to (itself by default). */
export function ggufArchOf(model: ModelSpec): string {
  if (model.family === "gguf") return model.modelType;
  return GGUF_OF_TYPE.get(model.modelType) ?? model.modelType;
}

/** The declared layer pattern of a GGUF architecture, if its family declares one. */
export function ggufLayerPattern(arch: string): LayerPattern | undefined {
  return PATTERN_OF_GGUF.get(arch);
}

export function knownModelTypes(): string[] {
  return [...BY_TYPE.keys()].sort();
}

/** Fields the generic (llama-like) path needs when model_type is unknown. */
const GENERIC_FIELDS = ["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size"];

export function modelFromHfConfig(config: unknown, id?: string): ModelSpec {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new InputError("config.json must be a JSON object");
  }
  const cfg = config as HfConfig;
  const label = id ?? (typeof cfg._name_or_path === "string" && cfg._name_or_path ? cfg._name_or_path : "model");
  return withRope(withNativeQuant(validateModelSpec(buildFamily(cfg, label), HF_FIELD_NAMES), cfg), cfg, label);
}

/** The model's rotary embeddings (lib/calc/arch/rope.ts), from the text config of a multimodal one. */
function withRope(m: ModelSpec, cfg: HfConfig, label: string): ModelSpec {
  const rope = ropeOf(m, textConfigOf(cfg, label));
  if (rope?.length) m.rope = rope;
  return m;
}

function buildFamily(cfg: HfConfig, label: string): ModelSpec {
  const modelType = cfg.model_type;
  if (modelType === undefined && cfg.ssm_cfg !== undefined) return buildMambaSsm(cfg, label);
  if (typeof modelType !== "string" || !modelType) {
    throw new InputError(`${label}: config.json has no "model_type"; cannot tell the architecture`);
  }
  const family = BY_TYPE.get(modelType);
  if (family) return family.build(cfg, label);
  const missing = GENERIC_FIELDS.filter((f) => cfg[f] === undefined);
  if (missing.length) {
    throw new InputError(
      `${label}: unknown model_type "${modelType}" and the generic decoder path needs ${missing.join(", ")}; known model types: ${knownModelTypes().join(", ")}`,
    );
  }
  const m = buildLlamaLike(cfg, label, "generic");
  m.notes.push(`model_type "${modelType}" is not a known family: planned as a generic llama-style decoder from the standard config fields`);
  return m;
}

/** A checkpoint published quantized (quantization_config) is planned in that scheme unless --weights says otherwise. */
function withNativeQuant(m: ModelSpec, cfg: HfConfig): ModelSpec {
  const q = schemeFromQuantizationConfig(cfg);
  if (q.scheme) m.nativeQuant = q.scheme;
  else if (q.unsupported) m.notes.push(`${q.unsupported} is not a layout hwledger models: planned at the checkpoint's 16-bit dtype unless --weights is given`);
  return m;
}
