// KV cache element types and their exact storage cost.
import { ggmlType } from "./ggml.js";
import { InputError } from "./types.js";
import type { KvDtype } from "./types.js";

const FLOAT_BYTES: Record<string, number> = { f32: 4, f16: 2, bf16: 2, fp8: 1, fp8_e4m3: 1, fp8_e5m2: 1 };
const ALIASES: Record<string, KvDtype> = {
  fp32: "f32", float32: "f32", fp16: "f16", float16: "f16", half: "f16", bfloat16: "bf16", auto: "f16",
  "fp8-e4m3": "fp8_e4m3", "fp8-e5m2": "fp8_e5m2", int8: "q8", "8bit": "q8", "4bit": "q4",
};
export const KV_DTYPES: readonly KvDtype[] = ["f32", "f16", "bf16", "fp8", "fp8_e4m3", "fp8_e5m2", "q8_0", "q5_0", "q5_1", "q4_0", "q4_1", "iq4_nl", "q8", "q4"];

export function parseKvDtype(s: string): KvDtype {
  const k = s.trim().toLowerCase();
  const v = (ALIASES[k] ?? k) as KvDtype;
  if (!KV_DTYPES.includes(v)) throw new InputError(`unknown KV cache dtype "${s}" (known: ${KV_DTYPES.join(", ")})`);
  return v;
}

/** "--kv-dtype T" or "--kv-dtype K,V". */
export function parseKvDtypePair(s: string): { k: KvDtype; v: KvDtype } {
  const parts = s.split(",");
  if (parts.length > 2 || parts.some((p) => !p.trim())) throw new InputError(`--kv-dtype takes T or K,V, got "${s}"`);
  const k = parseKvDtype(parts[0]);
  return { k, v: parts.length === 2 ? parseKvDtype(parts[1]) : k };
}

/**
 * Bytes for `elements` values of a KV dtype. GGML block types use ggml_row_size (e.g. q8_0 = 34 bytes per 32
 * values, ggml/src/ggml.c type_traits). "q8"/"q4" are MLX's affine quantized caches and are handled by the
 * MLX profile (scales and biases per group), so they are rejected here.
 */
export function kvBytes(dtype: KvDtype, elements: number): number {
  const f = FLOAT_BYTES[dtype];
  if (f !== undefined) return f * elements;
  const t = ggmlType(dtype);
  if (!t) throw new InputError(`KV dtype ${dtype} has no fixed per-element size outside its engine`);
  return (t.typeSize * elements) / t.blockSize;
}

export function isGgmlKvDtype(d: KvDtype): boolean {
  return FLOAT_BYTES[d] === undefined && ggmlType(d) !== undefined;
}
