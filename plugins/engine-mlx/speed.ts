// MLX's speed part: llama.cpp's fitted Metal kernels (plugins/engine-llamacpp/speed.ts) scaled by the one
// same-device comparison kept: ml-explore/mlx-examples#1029 (M3 Max 64 GB, Llama 3.3 70B 4-bit, mlx-lm 0.20.4 vs
// llama.cpp b4326 Q4_K_M with flash attention): "MLX processes tokens 1.14x faster and generates tokens 1.12x faster"
// (data/evidence/logs/SOURCES-speed.md). One device: no held-out MLX check is possible yet; said in the basis.
import type { DeploymentShape, DeviceCaps, EngineSpeed, Kernels } from "../../lib/calc/index.js";
import { llamaCppSpeed } from "../engine-llamacpp/speed.js";
import { LLAMACPP_SPEED } from "../engine-llamacpp/speed-constants.js";
import { MLX_PREFILL_STEP } from "./memory.js";

const DECODE_VS_LLAMACPP = 1.12;
const PREFILL_VS_LLAMACPP = 1.14;
const metal = llamaCppSpeed(LLAMACPP_SPEED);

/** MLX weight schemes as llama.cpp's cost classes: affine 4-bit groups like Q4_0, 8-bit like Q8_0, 16-bit as F16. */
function asGguf(weights: string): string {
  const w = weights.toLowerCase();
  if (/8bit|int8|q8/.test(w)) return "Q8_0";
  if (/4bit|mxfp4|int4|q4/.test(w)) return "Q4_0";
  if (/(3|5|6)bit/.test(w)) return "Q4_K_M";
  return "F16";
}

export const MLX_KERNELS: EngineSpeed = {
  kernels(device: DeviceCaps, shape: DeploymentShape): Kernels | { missing: string } {
    if (device.compute?.kernelFamily !== "metal") return { missing: "MLX runs on Apple silicon only" };
    const k = metal.kernels(device, { ...shape, weights: asGguf(shape.weights), options: { ...shape.options, ubatch: shape.options?.prefillStepSize ?? MLX_PREFILL_STEP, batch: Infinity, flashAttention: true } });
    if ("missing" in k) return k;
    return {
      ...k,
      decodeScale: DECODE_VS_LLAMACPP,
      prefillScale: PREFILL_VS_LLAMACPP,
      basis: [`MLX: llama.cpp's fitted Metal costs × ${DECODE_VS_LLAMACPP} decode, × ${PREFILL_VS_LLAMACPP} prefill (mlx-examples#1029, one M3 Max comparison; not checked on other chips)`, ...k.basis.map((b) => b.replace(/^llama\.cpp Metal/, "kernels as llama.cpp Metal"))],
    };
  },
};
