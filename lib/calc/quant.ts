// Weight storage schemes: bytes each tensor takes once the engine has loaded it. This file holds the dtypes and the
// non-GGUF quantizations (GGUF types and file mixes: gguf-quant.ts); weights.ts looks a scheme up by name.
import type { ModelSpec, TensorSpec } from "./types.js";
import { InputError } from "./types.js";

/** Bytes of one tensor as loaded; `layerIndex` is the block index, or -1 for tensors outside the blocks. */
export type TensorBytes = (t: TensorSpec, layerIndex: number) => number;

export interface WeightScheme {
  /** Canonical name (what --weights accepts, lower case for dtypes, GGUF names upper case). */
  name: string;
  label: string;
  /** The bytes of every tensor of `model`: whatever the scheme reads of the model as a whole is read once, here. */
  bytesFor(model: ModelSpec): TensorBytes;
  /** Where the layout rule comes from. */
  basis: string;
  /** Bytes of the vision tower when the scheme knows them exactly (default: 16-bit, quantizers skip it). */
  visionBytes?(model: ModelSpec): number;
}

/** A scheme and the other names --weights accepts for it. */
export interface SchemeEntry {
  scheme: WeightScheme;
  aliases?: string[];
}

export function tensorElements(t: TensorSpec): number {
  let n = 1;
  for (const d of t.shape) n *= d;
  return n;
}

/** A scheme whose bytes depend on the tensor alone. */
function perTensor(f: (t: TensorSpec) => number): () => TensorBytes {
  return () => (t) => f(t);
}

function floatScheme(name: string, bytes: number, label: string): WeightScheme {
  return {
    name,
    label,
    bytesFor: perTensor((t) => tensorElements(t) * bytes),
    basis: `${label}: ${bytes} byte(s) per parameter`,
  };
}

const QUANT: SchemeEntry[] = [
  { scheme: floatScheme("fp32", 4, "FP32"), aliases: ["f32", "float32"] },
  { scheme: floatScheme("fp16", 2, "FP16"), aliases: ["f16", "float16", "half"] },
  { scheme: floatScheme("bf16", 2, "BF16"), aliases: ["bfloat16"] },
];
const add = (scheme: WeightScheme, aliases: string[] = []) => QUANT.push({ scheme, aliases });

// ---- Non-GGUF quantizations -------------------------------------------------------------------------
// A tensor's ne0 (shape[0]) is its input (row) length; the other dims multiply into rows (out × experts).
// What a scheme leaves unquantized stays in 16-bit (the checkpoint dtype), as its quantizer/loader does.

const HALF = 2;

/** Roles the GPU weight-only/weight-activation quantizers (AWQ, GPTQ, FP8, INT8, bnb) convert: decoder linears. */
const LINEAR_ROLES: ReadonlySet<string> = new Set(["attention", "ffn", "expert", "shared_expert", "ssm"]);

/** Number of rows (output features × experts) of a tensor whose ne0 is the input length. */
function rowsOf(t: TensorSpec): number {
  let r = 1;
  for (let i = 1; i < t.shape.length; i++) r *= t.shape[i];
  return r;
}

/** True for a 2-D or 3-D weight whose input length is a multiple of `group` (what the packed layouts need). */
function packable(t: TensorSpec, group: number): boolean {
  return t.shape.length >= 2 && t.shape[0] % group === 0;
}

function quantScheme(name: string, label: string, basis: string, quantizes: (t: TensorSpec) => boolean, bytes: (t: TensorSpec) => number): WeightScheme {
  return {
    name,
    label,
    basis,
    bytesFor: perTensor((t) => (quantizes(t) ? bytes(t) : tensorElements(t) * HALF)),
  };
}

/**
 * AWQ int4 (AutoAWQ WQLinear_GEMM; vLLM awq.py AWQLinearMethod.create_weights): qweight int32 [in, out/8],
 * qzeros int32 [in/g, out/8] (4-bit zeros packed), scales fp16 [in/g, out]. Only decoder-block linears are
 * converted: embeddings, lm_head (AutoAWQ never quantizes it), norms and MoE routers ("gate" is in
 * modules_to_not_convert) stay 16-bit.
 */
export function awqTensorBytes(t: TensorSpec, group: number): number {
  const inDim = t.shape[0];
  const rows = rowsOf(t);
  const groups = Math.ceil(inDim / group);
  return (inDim * rows) / 2 + groups * (rows / 2) + groups * rows * 2;
}

/**
 * GPTQ (AutoGPTQ QuantLinear; vLLM gptq.py GPTQLinearMethod.create_weights): qweight int32 [in·bits/32, out],
 * g_idx int32 [in] (always created and always saved by AutoGPTQ/GPTQModel, desc_act or not), qzeros int32
 * [in/g, out·bits/32], scales fp16 [in/g, out]. Same skip list as AWQ (lm_head stays 16-bit).
 * For 3-D expert tensors g_idx is per expert (one per input row of each expert).
 */
export function gptqTensorBytes(t: TensorSpec, group: number, bits: number): number {
  const inDim = t.shape[0];
  const rows = rowsOf(t);
  const experts = t.shape.length > 2 ? t.shape[2] : 1;
  const groups = Math.ceil(inDim / group);
  return (inDim * rows * bits) / 8 + inDim * 4 * experts + (groups * rows * bits) / 8 + groups * rows * 2;
}

/**
 * bitsandbytes NF4 (bitsandbytes/functional.py quantize_4bit, blocksize 64): two 4-bit codes per byte over the
 * flattened tensor, one absmax per 64-value block. With double quantization (compress_statistics, the QLoRA
 * setting most published *-bnb-4bit checkpoints use) the absmax values are themselves quantized to 8 bits in
 * blocks of 256 with one fp32 absmax each (+ the 256-entry fp32 nested code table and a fp32 offset); without it
 * each absmax is fp32. Plus the 16-entry fp32 NF4 code table per tensor. transformers' bnb integration
 * (replace_with_bnb_linear) converts nn.Linear modules except lm_head (get_keys_to_not_convert); embeddings
 * are nn.Embedding and stay 16-bit.
 */
export function nf4TensorBytes(t: TensorSpec, doubleQuant: boolean): number {
  const n = tensorElements(t);
  const blocks = Math.ceil(n / 64);
  const codes = Math.ceil(n / 2) + 16 * 4;
  if (!doubleQuant) return codes + blocks * 4;
  return codes + blocks + Math.ceil(blocks / 256) * 4 + 256 * 4 + 4;
}

/**
 * INT8 with one fp32 scale per output row: bitsandbytes LLM.int8 (Int8Params: int8 CB + fp32 SCB [out]) and
 * W8A8 per-channel checkpoints (compressed-tensors weight_scale [out, 1]). lm_head/embeddings stay 16-bit.
 */
export function int8TensorBytes(t: TensorSpec): number {
  return tensorElements(t) + rowsOf(t) * 4;
}

/**
 * FP8 E4M3 weights. Block-wise (DeepSeek-V3 / Qwen3-FP8 checkpoints: quantization_config weight_block_size
 * [128, 128], weight_scale_inv fp32 [ceil(out/128), ceil(in/128)] per expert; vLLM fp8.py Fp8LinearMethod with
 * block_quant). Per-tensor (vLLM --quantization fp8 on a 16-bit checkpoint, compressed-tensors FP8 "tensor"):
 * one fp32 weight_scale per tensor. Embeddings, lm_head, norms and the MoE router stay 16-bit (DeepSeek-V3's
 * gate is not an FP8 linear).
 */
export function fp8TensorBytes(t: TensorSpec, block: number | undefined): number {
  const n = tensorElements(t);
  if (block === undefined) return n + 4;
  const inDim = t.shape[0];
  const out = t.shape.length > 1 ? t.shape[1] : 1;
  const experts = t.shape.length > 2 ? t.shape[2] : 1;
  return n + Math.ceil(inDim / block) * Math.ceil(out / block) * experts * 4;
}

/**
 * OCP Microscaling MXFP4 (OCP MX spec v1.0; gpt-oss checkpoints *_blocks uint8 [.., in/32, 16] + *_scales uint8
 * [.., in/32]): 32 E2M1 values in 16 bytes plus one E8M0 scale byte = 17 bytes per 32 weights. gpt-oss applies it
 * to the MoE experts only (quantization_config.modules_to_not_convert: attention, router, embeddings, lm_head).
 */
export function mxfp4TensorBytes(t: TensorSpec): number {
  return (Math.ceil(t.shape[0] / 32) * rowsOf(t) * 17);
}

/**
 * MLX affine quantization (mlx.core.quantize, mode "affine"; mlx.nn.quantize): `bits` per weight packed in
 * uint32, plus a scale and a bias per group of `group` values along the input dim, both in the model dtype.
 * 4-bit g64 = 0.5 + 4/64 bytes per weight. mlx_lm.utils.quantize_model quantizes every module with
 * to_quantized (Linear, SwitchLinear experts, Embedding, and so lm_head too) whose weight's last dim
 * (= ne0) divides by the group size; norms and other vectors stay in the model dtype.
 */
export function mlxTensorBytes(t: TensorSpec, bits: number, group: number): number {
  const n = tensorElements(t);
  return (n * bits) / 8 + (n / group) * 2 * HALF;
}

/**
 * MoE routers that mlx_lm keeps at 8 bits (group 64) through the model's quant_predicate (e.g.
 * mlx_lm/models/qwen3_moe.py "mlp.gate", gpt_oss.py "router", qwen3_next.py, granitemoehybrid.py, jamba.py,
 * minimax.py, lfm2_moe.py, bailing_moe.py, Klear.py, kimi_linear.py); other models' routers take the default bits.
 */
const MLX_ROUTER_8BIT: ReadonlySet<string> = new Set([
  "qwen3_moe", "qwen3_next", "qwen3_5_moe", "gpt_oss", "granitemoe", "granitemoehybrid", "jamba", "minimax", "lfm2_moe",
  "bailing_moe", "bailing_moe_linear", "Klear", "kimi_linear", "gemma4_text", "gemma4", "mellum", "afmoe", "step3p5",
]);

function mlxScheme(bits: number): WeightScheme {
  const group = 64;
  return {
    name: `mlx-${bits}bit`,
    label: `MLX ${bits}-bit (affine, group ${group})`,
    basis: `MLX affine ${bits}-bit: ${bits}/8 + 2×2/${group} bytes per weight (uint32-packed values, model-dtype scale and bias per ${group}); embeddings and lm_head quantized too (mlx_lm.utils.quantize_model)`,
    bytesFor(model) {
      const router8 = MLX_ROUTER_8BIT.has(model.modelType);
      return (t) => {
        if (t.role === "norm" || t.role === "vision" || !packable(t, group)) return tensorElements(t) * HALF;
        if (t.role === "router" && router8) return mlxTensorBytes(t, 8, group);
        return mlxTensorBytes(t, bits, group);
      };
    },
  };
}

/** Decoder linears; an SSM conv kernel (ne0 = d_conv, e.g. 4) is a Conv1d, not a linear, and stays 16-bit. */
const isLinear = (t: TensorSpec): boolean => LINEAR_ROLES.has(t.role) && t.shape.length >= 2 && (t.role !== "ssm" || t.shape[0] % 16 === 0);

add(
  quantScheme("awq", "AWQ int4 g128", "AWQ int4, group 128: 0.5 B/weight + 4-bit zero and fp16 scale per 128 (AutoAWQ WQLinear_GEMM, vLLM awq.py); lm_head, embeddings, norms, routers 16-bit",
    (t) => isLinear(t) && packable(t, 128), (t) => awqTensorBytes(t, 128)),
  ["awq-int4", "awq-g128", "awq_int4"],
);
add(
  quantScheme("awq-g64", "AWQ int4 g64", "AWQ int4, group 64 (AutoAWQ WQLinear_GEMM, vLLM awq.py); lm_head, embeddings, norms, routers 16-bit",
    (t) => isLinear(t) && packable(t, 64), (t) => awqTensorBytes(t, 64)),
);
add(
  quantScheme("gptq", "GPTQ int4 g128", "GPTQ int4, group 128: 0.5 B/weight + int32 g_idx per input row + 4-bit zero and fp16 scale per 128 (vLLM gptq.py GPTQLinearMethod.create_weights); lm_head, embeddings, norms, routers 16-bit",
    (t) => isLinear(t) && packable(t, 128), (t) => gptqTensorBytes(t, 128, 4)),
  ["gptq-int4", "gptq-g128", "gptq_int4"],
);
add(
  quantScheme("gptq-int8", "GPTQ int8 g128", "GPTQ int8, group 128 (vLLM gptq.py GPTQLinearMethod.create_weights); lm_head, embeddings, norms, routers 16-bit",
    (t) => isLinear(t) && packable(t, 128), (t) => gptqTensorBytes(t, 128, 8)),
  ["gptq_int8"],
);
/**
 * compressed-tensors pack-quantized int4 (llm-compressor W4A16; vLLM compressed_tensors_wNa16.py
 * CompressedTensorsWNA16.create_weights): weight_packed int32 [out, in/8], weight_scale [out, in // group] in the
 * model dtype (a trailing partial group gets no scale: floor division), an int32-packed 4-bit zero point per scale
 * when asymmetric, weight_shape int64[2].
 */
export function w4a16TensorBytes(t: TensorSpec, group: number, symmetric: boolean): number {
  const inDim = t.shape[0];
  const rows = rowsOf(t);
  const experts = t.shape.length > 2 ? t.shape[t.shape.length - 1] : 1;
  const scales = Math.floor(inDim / group) * rows;
  return (inDim * rows) / 2 + scales * HALF + (symmetric ? 0 : scales / 2) + 16 * experts;
}
for (const [group, sym] of [[128, true], [64, true], [32, true], [128, false]] as const) {
  const name = `w4a16${group === 128 ? "" : `-g${group}`}${sym ? "" : "-asym"}`;
  add(
    quantScheme(name, `W4A16 int4 g${group}${sym ? "" : " asym"} (compressed-tensors)`,
      `compressed-tensors pack-quantized int4, group ${group}: 0.5 B/weight + model-dtype scale per ${group}${sym ? "" : " + 4-bit zero point"} (vLLM compressed_tensors_wNa16.py); lm_head, embeddings, norms, routers 16-bit`,
      (t) => isLinear(t) && t.shape.length >= 2 && t.shape[0] % 8 === 0, (t) => w4a16TensorBytes(t, group, sym)),
    group === 128 && sym ? ["compressed-tensors-w4a16", "ct-w4a16"] : [],
  );
}

add(
  quantScheme("nf4", "bnb NF4 (double quant)", "bitsandbytes NF4, blocksize 64, double-quantized absmax (8-bit per block + fp32 per 256 blocks; bitsandbytes functional.py quantize_4bit); lm_head and embeddings 16-bit (transformers get_keys_to_not_convert)",
    (t) => isLinear(t) || t.role === "router", (t) => nf4TensorBytes(t, true)),
  ["bnb-nf4", "bnb-4bit", "nf4-dq"],
);
add(
  quantScheme("nf4-nodq", "bnb NF4", "bitsandbytes NF4, blocksize 64, fp32 absmax per block (bnb_4bit_use_double_quant=False, transformers' default); lm_head and embeddings 16-bit",
    (t) => isLinear(t) || t.role === "router", (t) => nf4TensorBytes(t, false)),
  ["fp4"],
);
add(
  quantScheme("int8", "INT8 per-channel", "INT8 weights + fp32 scale per output row (bitsandbytes LLM.int8 Int8Params SCB; W8A8 per-channel); lm_head and embeddings 16-bit",
    (t) => isLinear(t) || t.role === "router", (t) => int8TensorBytes(t)),
  ["w8a8", "bnb-int8", "llm.int8", "bnb-8bit"],
);
add(
  quantScheme("fp8", "FP8 E4M3, 128×128 block scales", "FP8 E4M3: 1 B/weight + fp32 scale per 128×128 block (DeepSeek-V3 weight_block_size, vLLM fp8.py block_quant); embeddings, lm_head, norms, router 16-bit",
    (t) => isLinear(t) && t.shape.length >= 2, (t) => fp8TensorBytes(t, 128)),
  ["fp8-block", "fp8_e4m3", "float8"],
);
add(
  quantScheme("fp8-tensor", "FP8 E4M3, per-tensor scale", "FP8 E4M3: 1 B/weight + one fp32 scale per tensor (vLLM --quantization fp8, Fp8LinearMethod); embeddings, lm_head, norms, router 16-bit",
    (t) => isLinear(t) && t.shape.length >= 2, (t) => fp8TensorBytes(t, undefined)),
  ["fp8-dynamic"],
);
add(
  quantScheme("mxfp4", "MXFP4 experts", "MXFP4 (OCP MX): 17 bytes per 32 weights on MoE experts only, everything else 16-bit (gpt-oss quantization_config)",
    (t) => t.role === "expert" && packable(t, 32), (t) => mxfp4TensorBytes(t)),
  ["mx-fp4"],
);
for (const bits of [3, 4, 5, 6, 8]) {
  add(mlxScheme(bits), [`mlx-q${bits}`, `mlx_${bits}bit`, `mlx${bits}`]);
}

/**
 * MLX microscaling modes (mlx_lm.utils.quantize_model mode "mxfp4" / "mxfp8": group 32): E2M1 or E4M3 values and
 * one E8M0 scale byte per 32, no bias; same module coverage as the affine modes.
 */
function mlxMxScheme(bits: 4 | 8): WeightScheme {
  const group = 32;
  return {
    name: `mlx-mxfp${bits}`,
    label: `MLX MXFP${bits} (group ${group})`,
    basis: `MLX mxfp${bits}: ${bits}/8 + 1/${group} bytes per weight (E8M0 scale per ${group}); embeddings and lm_head quantized too (mlx_lm.utils.quantize_model mode "mxfp${bits}")`,
    bytesFor: perTensor((t) => {
      if (t.role === "norm" || t.role === "vision" || !packable(t, group)) return tensorElements(t) * HALF;
      const n = tensorElements(t);
      return (n * bits) / 8 + n / group;
    }),
  };
}
add(mlxMxScheme(4));
add(mlxMxScheme(8));

/**
 * "checkpoint": the bytes the safetensors headers give for each block, exact per block (each tensor of a block
 * gets its share by element count, so per-layer rows and totals are the checkpoint's own figures).
 */
add(
  {
    name: "checkpoint",
    label: "checkpoint (safetensors headers)",
    bytesFor(model) {
      const c = model.checkpoint;
      // Elements of every block's tensors (index -1: the globals), so each tensor gets its share of its block's bytes.
      const elems = (tensors: TensorSpec[]) => tensors.reduce((a, t) => a + tensorElements(t), 0);
      const perLayer = c ? model.layers.map((l) => elems(l.tensors)) : [];
      const globals = c ? elems(model.globals) : 0;
      return (t, layerIndex) => {
        if (!c) throw new InputError(`weights "checkpoint" need the model's safetensors headers (--checkpoint); ${model.id} has none`);
        const group = layerIndex < 0 ? c.otherBytes : (c.perLayerBytes[layerIndex] ?? 0);
        const n = layerIndex < 0 ? globals : perLayer[layerIndex];
        return n ? (group * tensorElements(t)) / n : 0;
      };
    },
    basis: "safetensors headers (parsed by @huggingface/hub): exact bytes per block as stored in the checkpoint",
    visionBytes: (model) => model.checkpoint?.visionBytes ?? 0,
  },
  ["safetensors"],
);

/** The dtypes, the GPU quantizations and the MLX schemes, in the order --weights lists them. */
export const QUANT_SCHEMES: readonly SchemeEntry[] = QUANT;
