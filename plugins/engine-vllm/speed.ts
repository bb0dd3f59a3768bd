// vLLM's speed part. No single-stream vLLM measurement on a catalog device is kept, so every constant here is an
// assumption, said so in each prediction's basis: decode streams at aiconfigurator's empirical bandwidth factor for
// NVIDIA parts (0.8, mem_bw_empirical_scaling_factor in its systems/*.yaml, see data/devices), and the per-layer,
// dequantization, attention and GEMM costs are llama.cpp's fitted CUDA ones (plugins/engine-llamacpp/speed-constants.ts)
// with vLLM's kernel choices: BF16 GEMMs with FP32 accumulate (PyTorch/cuBLAS), FlashAttention (K/V read once per
// KV head, prompt scores not materialised). Measured runs in the ledger calibrate it per device.
import { assumedKernels, missingSpec, tensorRoofline } from "../../lib/calc/index.js";
import type { DeploymentShape, DeviceCaps, EngineSpeed, Kernels } from "../../lib/calc/index.js";
import { LLAMACPP_SPEED as L } from "../engine-llamacpp/speed-constants.js";

/** aiconfigurator systems/h100_sxm.yaml etc.: mem_bw_empirical_scaling_factor 0.8 (NVIDIA parts; assumed for others). */
const BANDWIDTH_FRACTION = 0.8;
/** EngineArgs.get_batch_defaults: 2048 batched tokens when vLLM cannot query the GPU (plugins/engine-vllm/arg-utils.ts). */
const DEFAULT_BATCHED_TOKENS = 2048;

/** Decode ALU cost class of a vLLM weight scheme: 16-bit GEMV, 8-bit (FP8/INT8), or 4-bit with dequantization (AWQ/GPTQ/Marlin…). */
function costClass(weights: string): "F16" | "Q8_0" | "Q4_K_M" {
  const w = weights.toLowerCase();
  if (/^(bf16|fp16|f16|float16|bfloat16|fp32|f32|float32|auto)$/.test(w)) return "F16";
  if (/fp8|int8|w8a8|8bit/.test(w)) return "Q8_0";
  return "Q4_K_M";
}

export const VLLM_KERNELS: EngineSpeed = {
  kernels(device: DeviceCaps, shape: DeploymentShape): Kernels | { missing: string } {
    const c = device.compute;
    const ubatch = shape.options?.maxNumBatchedTokens ?? DEFAULT_BATCHED_TOKENS;
    if (device.deviceClass === "metal" || c?.kernelFamily === "metal") return { missing: "vLLM has no Metal backend (Apple GPUs run MLX or llama.cpp)" };
    if (device.deviceClass === "cpu" || c?.kernelFamily === "cpu") {
      return assumedKernels(device, { bandwidth: 0.6, compute: 0.3, ubatch, basis: "vLLM CPU backend: 0.6 of peak bandwidth, 0.3 of the ALU rate (assumptions: no result kept)" });
    }
    const A = c?.alu;
    if (!A) return { missing: missingSpec(c, "alu", "the ALU (FP32) rate") };
    const mem = c.memoryClass === "hbm" ? "hbm" : "gddr";
    const w = costClass(shape.weights);
    const r = tensorRoofline(c.fp16TensorAcc32 ?? c.fp16Tensor, L.eta_blas16, c.issueRate, L.theta_blas16);
    if (!r) return { missing: missingSpec(c, "fp16TensorAcc32", "the 16-bit tensor peak") };
    return {
      bandwidthFraction: BANDWIDTH_FRACTION,
      layerSeconds: L[`tau_${mem}`],
      opsPerWeight: L[`delta_gpu_${w}`],
      aluFlops: A,
      kvReadFactor: L.kappa_gpu,
      kvPerQueryHead: false,
      opsPerScore: L.omega_gpu,
      matmulFlops: r.flops,
      ubatch,
      dequantCopy: false,
      promptBytesPerScore: 0,
      promptOpsPerScore: L.calu_gpu,
      decodeScale: 1,
      prefillScale: 1,
      basis: [
        `vLLM (assumptions, no vLLM result kept): decode at ${BANDWIDTH_FRACTION} of peak bandwidth (aiconfigurator's NVIDIA factor), per-layer and ${w}-class dequantization costs as llama.cpp's fitted CUDA ones`,
        `prefill: BF16 GEMM with FP32 accumulate at llama.cpp's fitted cuBLAS efficiency (${r.bound} bound) = ${(r.flops / 1e12).toFixed(1)} TFLOP/s, chunks of ${ubatch} tokens; FlashAttention`,
      ],
    };
  },
};
