// Weights of a model: the scheme table (every --weights name, looked up here and nowhere else), parameter counts, and
// the bytes per block under a scheme, computed in one pass over the tensors.
import { GGUF_SCHEMES } from "./gguf-quant.js";
import { QUANT_SCHEMES, tensorElements } from "./quant.js";
import type { TensorBytes, WeightScheme } from "./quant.js";
import { InputError } from "./types.js";
import type { ModelSpec } from "./types.js";

const ALL = [...QUANT_SCHEMES, ...GGUF_SCHEMES];
const BY_NAME = new Map<string, WeightScheme>();
for (const { scheme, aliases } of ALL) {
  BY_NAME.set(scheme.name.toLowerCase(), scheme);
  for (const a of aliases ?? []) BY_NAME.set(a.toLowerCase(), scheme);
}

export function weightScheme(name: string): WeightScheme {
  const s = BY_NAME.get(name.toLowerCase());
  if (!s) throw new InputError(`unknown weight dtype or quantization "${name}" (known: ${weightSchemeNames().join(", ")})`);
  return s;
}

export function weightSchemeNames(): string[] {
  return ALL.map((e) => e.scheme.name);
}

export interface ParamCounts {
  total: number;
  active: number;
  embedding: number;
  perLayer: number[];
  /** The plan's `params` (active rounded). */
  rounded: { total: number; active: number; embedding: number };
}

/** Parameter counts: total (resident), active per token (routed experts scaled by top-k / experts), embedding. */
export function paramCounts(model: ModelSpec): ParamCounts {
  let total = 0;
  let active = 0;
  let embedding = 0;
  const perLayer: number[] = [];
  for (const t of model.globals) {
    const n = tensorElements(t);
    total += n;
    active += n;
    if (t.role === "embedding") embedding += n;
  }
  for (const l of model.layers) {
    let lt = 0;
    for (const t of l.tensors) {
      const n = tensorElements(t);
      lt += n;
      active += t.role === "expert" && l.moe ? (n * l.moe.activeExperts) / l.moe.experts : n;
    }
    perLayer.push(lt);
    total += lt;
  }
  if (model.vision) {
    total += model.vision.params;
    active += model.vision.params;
  }
  return { total, active, embedding, perLayer, rounded: { total, active: Math.round(active), embedding } };
}

export interface WeightBytes {
  total: number;
  perLayer: number[];
  globals: number;
  vision: number;
  scheme: WeightScheme;
  /** Bytes of any one tensor of the model under the scheme. */
  bytesOf: TensorBytes;
}

/** Weight bytes under a storage scheme, per block and in total. */
export function weightBytes(model: ModelSpec, weights: string): WeightBytes {
  const scheme = weightScheme(weights);
  const bytesOf = scheme.bytesFor(model);
  let globals = 0;
  for (const t of model.globals) globals += bytesOf(t, -1);
  const perLayer: number[] = [];
  let total = globals;
  for (const l of model.layers) {
    let b = 0;
    for (const t of l.tensors) b += bytesOf(t, l.index);
    perLayer.push(b);
    total += b;
  }
  // Vision towers stay in 16-bit in every engine that loads them (quantizers skip them).
  const vision = model.vision ? (scheme.visionBytes?.(model) ?? model.vision.params * 2) : 0;
  total += vision;
  return { total: Math.round(total), perLayer, globals, vision, scheme, bytesOf };
}
