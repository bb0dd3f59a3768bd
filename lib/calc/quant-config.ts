// The weight scheme a checkpoint is published in, read from its config.json (quantization_config or mlx_lm's
// quantization): what --weights defaults to.
import { QUANT_SCHEMES } from "./quant.js";

/**
 * The weight scheme a published checkpoint is stored in, from its config.json `quantization_config` (HF
 * transformers quantizers; vLLM picks its quantization method from the same block) or mlx_lm's `quantization`;
 * `{}` for a 16-bit checkpoint, `{ unsupported }` when the method is one hwledger does not lay out.
 */
export function schemeFromQuantizationConfig(config: Record<string, unknown>): { scheme?: string; unsupported?: string } {
  const mlx = config.quantization as { bits?: unknown; group_size?: unknown; mode?: unknown } | undefined;
  const qc = config.quantization_config as Record<string, unknown> | undefined;
  if (!qc || typeof qc !== "object") {
    if (mlx && typeof mlx === "object") {
      // mlx_lm.utils.quantize_model writes {"group_size", "bits"[, "mode"]}: affine groups of 64 unless a mode says mx.
      if (mlx.mode === "mxfp4" || mlx.mode === "mxfp8") return { scheme: `mlx-${mlx.mode}` };
      return mlx.group_size === 64 && [3, 4, 5, 6, 8].includes(Number(mlx.bits)) ? { scheme: `mlx-${mlx.bits}bit` } : { unsupported: `mlx quantization ${JSON.stringify(mlx)}` };
    }
    return {};
  }
  const method = String(qc.quant_method ?? "").toLowerCase();
  const bits = Number(qc.bits ?? qc.w_bit ?? NaN);
  const group = Number(qc.group_size ?? qc.q_group_size ?? NaN);
  switch (method) {
    case "fp8":
      // Block-scaled (weight_block_size, DeepSeek-V3 style) or per-tensor scales (Fp8Config without blocks).
      return { scheme: qc.weight_block_size ? "fp8" : "fp8-tensor" };
    case "mxfp4":
      return { scheme: "mxfp4" };
    case "awq":
      if (bits === 4 && group === 128) return { scheme: "awq" };
      if (bits === 4 && group === 64) return { scheme: "awq-g64" };
      break;
    case "gptq":
      if (bits === 4 && group === 128) return { scheme: "gptq" };
      if (bits === 8 && group === 128) return { scheme: "gptq-int8" };
      break;
    case "bitsandbytes":
      if (qc.load_in_4bit) return { scheme: qc.bnb_4bit_use_double_quant ? "nf4" : "nf4-nodq" };
      if (qc.load_in_8bit) return { scheme: "int8" };
      break;
    case "compressed-tensors": {
      // The first config group's weight args (llm-compressor writes one group for uniform W4A16 / W8A8 / FP8).
      const groups = Object.values((qc.config_groups ?? {}) as Record<string, { weights?: Record<string, unknown> }>);
      const w = groups[0]?.weights;
      if (!w) break;
      const nb = Number(w.num_bits);
      if (nb === 8 && w.type === "float") return { scheme: w.strategy === "block" ? "fp8" : "fp8-tensor" };
      if (nb === 8 && w.type === "int") return { scheme: "int8" };
      if (nb === 4 && w.type === "int" && w.strategy === "group") {
        const g = Number(w.group_size);
        const name = `w4a16${g === 128 ? "" : `-g${g}`}${w.symmetric === false ? "-asym" : ""}`;
        if (QUANT_SCHEMES.some((e) => e.scheme.name === name)) return { scheme: name };
      }
      break;
    }
  }
  return { unsupported: `quantization_config ${method || "(no quant_method)"}${Number.isNaN(bits) ? "" : ` ${bits}-bit`}${Number.isNaN(group) ? "" : ` group ${group}`}` };
}
