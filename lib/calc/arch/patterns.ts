// Shared config plumbing for the dense/multimodal families: transformers defaults for fields a config.json
// leaves out, the text part of multimodal configs, and per-layer attention types.
import { InputError } from "../types.js";
import type { HfConfig } from "./common.js";

/** Fields a checkpoint omits take the transformers config class defaults (PretrainedConfig.__init__ keeps only what is given). */
export function withDefaults(config: HfConfig, defaults: HfConfig): HfConfig {
  const out: HfConfig = { ...defaults };
  for (const [k, v] of Object.entries(config)) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

/** The text model's config of a multimodal checkpoint (text_config), inheriting the outer dtype. */
export function textConfigOf(config: HfConfig, id: string): HfConfig {
  const t = config.text_config;
  if (t === undefined || t === null) return config;
  if (typeof t !== "object" || Array.isArray(t)) throw new InputError(`${id}: "text_config" must be an object`);
  const text = t as HfConfig;
  return { torch_dtype: config.torch_dtype ?? config.dtype, ...text };
}

export type AttentionType = "full_attention" | "sliding_attention" | "chunked_attention";
const KNOWN: AttentionType[] = ["full_attention", "sliding_attention", "chunked_attention"];

/**
 * Per-layer attention type: `layer_types` when the config has it (transformers >= 4.53 writes it),
 * otherwise the family's rule for older configs.
 */
export function layerTypes(config: HfConfig, id: string, n: number, fallback: (i: number) => AttentionType): AttentionType[] {
  const lt = config.layer_types;
  if (lt === undefined || lt === null) return Array.from({ length: n }, (_, i) => fallback(i));
  if (!Array.isArray(lt) || lt.length !== n) {
    throw new InputError(`${id}: "layer_types" must list ${n} entries (one per layer), got ${Array.isArray(lt) ? lt.length : JSON.stringify(lt)}`);
  }
  return lt.map((t, i) => {
    if (!KNOWN.includes(t as AttentionType)) throw new InputError(`${id}: layer_types[${i}] "${String(t)}" is not one of ${KNOWN.join(", ")}`);
    return t as AttentionType;
  });
}
