// GGUF weight schemes: pure ggml types, llama-quantize file mixes (estimated from the tensor list), and "gguf"
// (exact bytes read from a GGUF header). Rules follow src/llama-quant.cpp of llama.cpp (node-llama-cpp 3.22.1's
// bundled source): tensor_allows_quantization, llama_tensor_get_type_impl, tensor_type_fallback.
import { GGML_TYPES, ggmlType } from "./ggml.js";
import type { GgmlType } from "./ggml.js";
import { tensorElements } from "./quant.js";
import type { SchemeEntry, WeightScheme } from "./quant.js";
import { InputError } from "./types.js";
import type { ModelSpec, TensorSpec } from "./types.js";

const T = (n: string) => ggmlType(n)!;
const F32 = T("F32");
const F16 = T("F16");

/** Bytes of a tensor stored as `type` (ggml_row_size × rows). */
function bytesAs(t: TensorSpec, type: GgmlType): number {
  return (tensorElements(t) / type.blockSize) * type.typeSize;
}

const bare = (name: string) => (name.endsWith(".weight") ? name.slice(0, -7) : name);

/**
 * tensor_allows_quantization: only 2-D/3-D ".weight" tensors, never norms, the MoE router (ffn_gate_inp),
 * Mamba's conv1d or biases. The rest keep their converted type, F32 (convert_hf_to_gguf.py stores 1-D
 * tensors, norms and routers as F32).
 */
function quantizable(t: TensorSpec): boolean {
  if (t.shape.length < 2 || t.role === "norm" || t.role === "router") return false;
  const n = t.name;
  if (n.endsWith(".bias") || /_norm(\.weight)?$/.test(n) || n.includes("ffn_gate_inp") || n.includes("ssm_conv1d")) return false;
  if (/\.ssm_(a|d)$/.test(n)) return false; // no ".weight" suffix in GGUF: not quantized
  return true;
}

/** tensor_type_fallback: a row length that is not a multiple of the block size falls back to a 32-block type, then F16. */
function fallback(t: TensorSpec, type: GgmlType): GgmlType {
  const ncols = t.shape[0];
  if (ncols % type.blockSize === 0) return type;
  const map: Record<string, string> = {
    IQ1_S: "IQ4_NL", IQ1_M: "IQ4_NL", IQ2_XXS: "IQ4_NL", IQ2_XS: "IQ4_NL", IQ2_S: "IQ4_NL", IQ3_XXS: "IQ4_NL", IQ3_S: "IQ4_NL", IQ4_XS: "IQ4_NL",
    Q2_K: "Q4_0", Q3_K: "Q4_0", TQ1_0: "Q4_0", TQ2_0: "Q4_0", Q4_K: "Q5_0", Q5_K: "Q5_1", Q6_K: "Q8_0",
  };
  const fb = map[type.name] ? T(map[type.name]) : type;
  return ncols % fb.blockSize === 0 ? fb : F16;
}

function pureScheme(type: GgmlType, name: string): WeightScheme {
  return {
    name,
    label: `GGUF ${type.name} (pure)`,
    bytesFor: () => (t) => (quantizable(t) ? bytesAs(t, fallback(t, type)) : bytesAs(t, F32)),
    basis: `GGUF ${type.name} pure: every quantizable tensor ${type.typeSize} bytes per ${type.blockSize} values, norms/routers F32 (llama-quant.cpp, --pure)`,
  };
}

/** llama_model_quantize_impl: the default tensor type of each llama-quantize file type. */
const MIX_DEFAULT: Record<string, string> = {
  Q4_0: "Q4_0", Q4_1: "Q4_1", Q5_0: "Q5_0", Q5_1: "Q5_1", Q8_0: "Q8_0",
  Q2_K: "Q2_K", Q2_K_S: "Q2_K", Q3_K_S: "Q3_K", Q3_K_M: "Q3_K", Q3_K_L: "Q3_K", Q4_K_S: "Q4_K", Q4_K_M: "Q4_K",
  Q5_K_S: "Q5_K", Q5_K_M: "Q5_K", Q6_K: "Q6_K", IQ4_NL: "IQ4_NL", IQ4_XS: "IQ4_XS", MXFP4_MOE: "MXFP4",
};

interface MixModel {
  nLayer: number;
  nGqa: number;
  nExpert: number;
  tied: boolean;
}

function mixModel(m: ModelSpec): MixModel {
  let nKv = 0;
  let nExpert = 0;
  for (const l of m.layers) {
    const c = l.cache;
    if (!nKv && (c.kind === "full" || c.kind === "sliding" || c.kind === "chunked")) nKv = c.nKvHeads;
    if (l.moe) nExpert = Math.max(nExpert, l.moe.experts);
  }
  return { nLayer: m.layers.length, nGqa: nKv ? m.nHeads / nKv : 1, nExpert, tied: m.tiedEmbeddings };
}

const moreBits = (i: number, n: number) => i < Math.floor(n / 8) || i >= Math.floor((7 * n) / 8) || (i - Math.floor(n / 8)) % 3 === 2;

/** llama_tensor_get_type_impl for the K-quant and legacy mixes (the IQ1/IQ2/IQ3 mixes are not modelled). */
function mixType(ftype: string, t: TensorSpec, i: number, mm: MixModel): GgmlType {
  let type = T(MIX_DEFAULT[ftype]);
  const n = bare(t.name);
  const L = mm.nLayer;
  const output = n === "output" || (mm.tied && n === "token_embd");
  if (output) {
    if (ftype === "MXFP4_MOE" || t.shape[0] % type.blockSize !== 0) type = T("Q8_0");
    else if (type.name !== "Q8_0") type = T("Q6_K");
  } else if (ftype === "MXFP4_MOE") {
    type = t.shape.length > 2 && t.shape[2] > 1 ? T("MXFP4") : T("Q8_0");
  } else if (n === "token_embd") {
    // token_embd keeps the default type for these mixes.
  } else if (/\.attn_(v|qkv|kv_b)$/.test(n)) {
    if (ftype === "Q2_K") type = T(mm.nGqa >= 4 ? "Q4_K" : "Q3_K");
    else if (ftype === "Q2_K_S" && mm.nGqa >= 4) type = T("Q4_K");
    else if (ftype === "Q3_K_M") type = T(i < 2 ? "Q5_K" : "Q4_K");
    else if (ftype === "Q3_K_L") type = T("Q5_K");
    else if ((ftype === "IQ4_NL" || ftype === "IQ4_XS") && mm.nGqa >= 4) type = T("Q5_K");
    else if ((ftype === "Q4_K_M" || ftype === "Q5_K_M") && moreBits(i, L)) type = T("Q6_K");
    else if (ftype === "Q4_K_S" && i < 4) type = T("Q5_K");
    if (mm.nExpert === 8) type = T("Q8_0");
  } else if (/\.attn_k$/.test(n)) {
    if (mm.nExpert === 8) type = T("Q8_0");
  } else if (/\.ffn_down(_exps|_shexp)?$/.test(n)) {
    if (ftype === "Q2_K") type = T("Q3_K");
    else if (ftype === "Q2_K_S") { if (i < Math.floor(L / 8)) type = T("Q4_K"); }
    else if (ftype === "Q3_K_M") type = T(i < Math.floor(L / 16) ? "Q5_K" : "Q4_K");
    else if (ftype === "Q3_K_L") type = T("Q5_K");
    else if (ftype === "Q4_K_M") { if (moreBits(i, L)) type = T("Q6_K"); }
    else if (i < Math.floor(L / 8) && (ftype === "IQ4_NL" || ftype === "IQ4_XS")) type = T("Q5_K");
    else if (ftype === "Q5_K_M" && moreBits(i, L)) type = T("Q6_K");
    else if (ftype === "Q4_K_S" && i < Math.floor(L / 8)) type = T("Q5_K");
  } else if (/\.attn_output$/.test(n)) {
    if (mm.nExpert === 8) {
      if (["Q2_K", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M", "IQ4_XS"].includes(ftype)) type = T("Q5_K");
    } else if (ftype === "Q2_K") type = T("Q3_K");
    else if (ftype === "Q3_K_M") type = T("Q4_K");
    else if (ftype === "Q3_K_L") type = T("Q5_K");
  }
  return fallback(t, type);
}

function mixScheme(ftype: string): WeightScheme {
  return {
    name: ftype,
    label: `GGUF ${ftype}`,
    bytesFor(model) {
      const mm = mixModel(model);
      return (t, i) => (quantizable(t) ? bytesAs(t, mixType(ftype, t, i, mm)) : bytesAs(t, F32));
    },
    basis: `GGUF ${ftype} file mix, estimated from the tensor list (llama-quant.cpp llama_tensor_get_type: output Q6_K, attn_v/ffn_down upgrades, row-length fallbacks, norms F32); exact bytes need the GGUF`,
  };
}

/** Exact: the bytes each tensor has in the GGUF the model was read from. */
const exactScheme: WeightScheme = {
  name: "gguf",
  label: "GGUF file (exact)",
  bytesFor: (model) => (t) => {
    const b = model.gguf?.tensorBytes[t.name];
    if (b === undefined) throw new InputError(`weights "gguf" need a model read from a GGUF file (--gguf FILE); ${model.id} has no tensor ${t.name} from a GGUF header`);
    return b;
  },
  basis: "GGUF header: exact bytes of every tensor (ggml type block sizes, ggml.c type_traits)",
};

const PURE_SKIP = new Set(["F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64", "Q8_1", "Q8_K"]);

/** Pure types, llama-quantize file mixes and the exact "gguf" scheme, in the order --weights lists them. */
export const GGUF_SCHEMES: readonly SchemeEntry[] = [
  ...GGML_TYPES.filter((ty) => !PURE_SKIP.has(ty.name)).map((ty) => ({
    // A type that is also a llama-quantize file type gets the mix under its plain name; the pure layout is "<TYPE>_PURE".
    // MXFP4 too: plain "mxfp4" is the HF checkpoint format (gpt-oss experts, quant.ts).
    scheme: pureScheme(ty, MIX_DEFAULT[ty.name] || ty.name === "MXFP4" ? `${ty.name}_PURE` : ty.name),
  })),
  ...Object.keys(MIX_DEFAULT).map((f) => ({ scheme: mixScheme(f), aliases: f === "MXFP4_MOE" ? ["mxfp4-moe"] : [] })),
  { scheme: exactScheme, aliases: ["gguf-exact"] },
];

export function ggufSchemeNames(): string[] {
  return GGUF_SCHEMES.map((e) => e.scheme.name);
}

/** How a mix was estimated (for UI notes). */
export function ggufMixBasis(ftype: string): string | undefined {
  return MIX_DEFAULT[ftype.toUpperCase()] ? mixScheme(ftype.toUpperCase()).basis : undefined;
}
