// Weight storage schemes: bytes each tensor takes once the engine has loaded it.
import type { ModelSpec, TensorSpec } from "./types.js";
import { InputError } from "./types.js";

export interface TensorContext {
  model: ModelSpec;
  /** Block index, or -1 for tensors outside the blocks. */
  layerIndex: number;
}

export interface WeightScheme {
  /** Canonical name (what --weights accepts, lower case for dtypes, GGUF names upper case). */
  name: string;
  label: string;
  /** Bytes of one tensor as loaded. */
  tensorBytes(t: TensorSpec, ctx: TensorContext): number;
  /** Where the layout rule comes from. */
  basis: string;
}

export function tensorElements(t: TensorSpec): number {
  let n = 1;
  for (const d of t.shape) n *= d;
  return n;
}

function floatScheme(name: string, bytes: number, label: string): WeightScheme {
  return {
    name,
    label,
    tensorBytes: (t) => tensorElements(t) * bytes,
    basis: `${label}: ${bytes} byte(s) per parameter`,
  };
}

const SCHEMES = new Map<string, WeightScheme>();
const ALIASES = new Map<string, string>();

export function registerWeightScheme(s: WeightScheme, aliases: string[] = []): void {
  SCHEMES.set(s.name.toLowerCase(), s);
  for (const a of aliases) ALIASES.set(a.toLowerCase(), s.name.toLowerCase());
}

registerWeightScheme(floatScheme("fp32", 4, "FP32"), ["f32", "float32"]);
registerWeightScheme(floatScheme("fp16", 2, "FP16"), ["f16", "float16", "half"]);
registerWeightScheme(floatScheme("bf16", 2, "BF16"), ["bfloat16"]);

export function weightScheme(name: string): WeightScheme {
  const key = name.toLowerCase();
  const s = SCHEMES.get(ALIASES.get(key) ?? key);
  if (!s) throw new InputError(`unknown weight dtype or quantization "${name}" (known: ${weightSchemeNames().join(", ")})`);
  return s;
}

export function weightSchemeNames(): string[] {
  return [...SCHEMES.values()].map((s) => s.name);
}
