// llama.cpp's speed part: which kernels run on a device for a weight type (from the llama.cpp source, cited per
// rule) and what they reach (the constants of speed-constants.ts, fitted by scripts/fit-speed.ts on the derivation
// cases of data/evidence/cases/speed-llamacpp*.json only; the held-out cases judge them).
import { assumedKernels, missingSpec, tensorRoofline } from "../../lib/calc/index.js";
import type { DeploymentShape, DeviceCaps, EngineSpeed, Kernels } from "../../lib/calc/index.js";
import { LLAMA_DEFAULT_BATCH, LLAMA_DEFAULT_UBATCH, flashAttentionOf } from "./context.js";
import { LLAMACPP_SPEED } from "./speed-constants.js";

/** A constant of the model: its meaning, and the prior and bounds the fit starts from and keeps to. */
export interface SpeedParam {
  name: string;
  init: number;
  lo: number;
  hi: number;
  meaning: string;
}

const WEIGHT_CLASSES = ["Q4_0", "Q4_K_M", "Q8_0", "F16"] as const;
type WeightClass = (typeof WEIGHT_CLASSES)[number];

/** Every constant of llama.cpp's speed model (names as in the research report, /evidence and the fit script). */
export const LLAMACPP_SPEED_PARAMS: readonly SpeedParam[] = [
  ...(["gddr", "hbm", "apple"] as const).flatMap((k) => [
    { name: `a_${k}`, init: 1.2, lo: 1, hi: 5, meaning: `1 / the fraction of peak bandwidth decode streams at (${k} memory)` },
    { name: `tau_${k}`, init: 60e-6, lo: 1e-7, hi: 1e-3, meaning: `fixed seconds per layer per decode step: launches, synchronisation, small ops (${k} memory)` },
  ]),
  { name: "ultra_dec", init: 1.1, lo: 0.5, hi: 3, meaning: "Apple Ultra (two dies over UltraFusion): divides the bandwidth fraction" },
  ...(["gpu", "metal"] as const).flatMap((g) => [
    ...WEIGHT_CLASSES.map((w) => ({ name: `delta_${g}_${w}`, init: 2, lo: 1e-3, hi: 200, meaning: `ALU operations per weight a decode step reads (unpack + dot), ${w} weights, ${g} kernels` })),
    { name: `kappa_${g}`, init: 0.5, lo: 1e-3, hi: 50, meaning: `multiple of the K/V bytes a decode step reads (${g})` },
    { name: `omega_${g}`, init: 10, lo: 1e-3, hi: 1e6, meaning: `ALU operations per attention score in decode (${g})` },
    { name: `cbw_${g}`, init: 5, lo: 1e-3, hi: 1000, meaning: `bytes per prompt attention score, KQ materialised without flash attention (${g})` },
    { name: `calu_${g}`, init: 50, lo: 1e-3, hi: 1e5, meaning: `ALU operations per prompt attention score (${g})` },
  ]),
  ...(["mmq", "blas16", "deqblas"] as const).flatMap((f) => [
    { name: `theta_${f}`, init: 400, lo: 10, hi: 1e4, meaning: `FLOP per SM per clock the ${f} prefill kernels reach (issue roofline)` },
    { name: `eta_${f}`, init: 0.5, lo: 0.01, hi: 1, meaning: `fraction of the tensor peak the ${f} prefill kernels reach (tensor roofline)` },
  ]),
  { name: "theta_amd", init: 200, lo: 10, hi: 1e4, meaning: "FLOP per CU per clock of ROCm MMQ (MFMA/WMMA) and Vulkan on AMD" },
  { name: "theta_vk", init: 400, lo: 10, hi: 1e4, meaning: "FLOP per SM per clock of Vulkan mul_mm on NVIDIA (Intel assumed alike)" },
  ...WEIGHT_CLASSES.map((w) => ({ name: `eta_metal_${w}`, init: 0.7, lo: 0.05, hi: 1, meaning: `fraction of the ALU rate Metal kernel_mul_mm reaches, ${w} weights` })),
  { name: "ultra_pp", init: 1, lo: 0.5, hi: 2, meaning: "Apple Ultra prefill: multiplies the Metal matmul rate" },
];

export type LlamaCppSpeedConstants = Record<string, number>;

/** Which δ and Metal efficiency a weight type uses: legacy 32-blocks, K-quants (and I-quants, assumed alike), Q8_0, 16/32-bit. */
export function weightClassOf(weights: string): { cls: WeightClass; assumed?: string } {
  const w = weights.toUpperCase();
  if (/^(F16|BF16|FP16|F32|FP32)$/.test(w)) return { cls: "F16" };
  if (w === "Q8_0") return { cls: "Q8_0" };
  if (/^Q[45]_[01]$|^IQ4_NL$/.test(w)) return { cls: "Q4_0" };
  if (/^Q\d_K/.test(w)) return { cls: "Q4_K_M" };
  return { cls: "Q4_K_M", assumed: `${weights}: costs assumed as K-quants (no result of this type measured)` };
}

type Backend = "CUDA" | "ROCm" | "Vulkan" | "Metal" | "CPU";

/** The backend a device runs by default: its kernel family's (the user may run Vulkan instead: options.llamaCppBackend). */
function backendOf(device: DeviceCaps, shape: DeploymentShape): Backend {
  const asked = shape.options?.llamaCppBackend;
  if (asked) return asked;
  const f = device.compute?.kernelFamily;
  if (!f) return device.deviceClass === "cpu" ? "CPU" : device.deviceClass === "metal" ? "Metal" : device.deviceClass === "rocm" ? "ROCm" : "CUDA";
  if (f.startsWith("cuda")) return "CUDA";
  if (f.startsWith("rocm")) return "ROCm";
  if (f === "metal") return "Metal";
  if (f === "cpu") return "CPU";
  return "Vulkan";
}

/** Builds before PR #8075 ("CUDA: use MMQ instead of cuBLAS by default", 2024-06-23, ≈ b3200) dequantized to FP16 + cuBLAS. */
const MMQ_DEFAULT_BUILD = 3200;

/** llama.cpp's kernels with a set of constants (the fit script passes candidates; the engine uses speed-constants.ts). */
export function llamaCppSpeed(v: LlamaCppSpeedConstants): EngineSpeed {
  // The constants by name, looked up once (kernels() runs in tight loops).
  const memory = Object.fromEntries((["gddr", "hbm", "apple"] as const).map((k) => [k, { a: v[`a_${k}`], tau: v[`tau_${k}`] }])) as Record<"gddr" | "hbm" | "apple", { a: number; tau: number }>;
  const group = Object.fromEntries(
    (["gpu", "metal"] as const).map((g) => [g, { delta: Object.fromEntries(WEIGHT_CLASSES.map((w) => [w, v[`delta_${g}_${w}`]])) as Record<WeightClass, number>, kappa: v[`kappa_${g}`], omega: v[`omega_${g}`], cbw: v[`cbw_${g}`], calu: v[`calu_${g}`] }]),
  ) as Record<"gpu" | "metal", { delta: Record<WeightClass, number>; kappa: number; omega: number; cbw: number; calu: number }>;
  const fam = Object.fromEntries((["mmq", "blas16", "deqblas"] as const).map((f) => [f, { eta: v[`eta_${f}`], theta: v[`theta_${f}`] }])) as Record<"mmq" | "blas16" | "deqblas", { eta: number; theta: number }>;
  const etaMetal = Object.fromEntries(WEIGHT_CLASSES.map((w) => [w, v[`eta_metal_${w}`]])) as Record<WeightClass, number>;
  return {
    kernels(device: DeviceCaps, shape: DeploymentShape): Kernels | { missing: string } {
      const c = device.compute;
      const backend = backendOf(device, shape);
      const ubatch = Math.min(shape.options?.batch ?? LLAMA_DEFAULT_BATCH, shape.options?.ubatch ?? LLAMA_DEFAULT_UBATCH);
      if (backend === "CPU") {
        return assumedKernels(device, { bandwidth: 0.6, compute: 0.3, ubatch, basis: "llama.cpp CPU backend: 0.6 of peak bandwidth, 0.3 of the ALU rate (assumptions: no CPU result is kept)" });
      }
      const A = c?.alu;
      if (!A) return { missing: missingSpec(c, "alu", "the ALU (FP32) rate") };
      const { cls: w, assumed } = weightClassOf(shape.weights);
      const metal = backend === "Metal";
      const g = metal ? "metal" : "gpu";
      const mem = c.memoryClass === "unified" ? "apple" : c.memoryClass === "hbm" ? "hbm" : "gddr";
      const ultra = metal && c.dies === 2;
      const fa = flashAttentionOf(shape);
      const notes: string[] = [];
      if (assumed) notes.push(assumed);
      if (c.memoryClass === "lpddr") notes.push("LPDDR on a non-Apple GPU: decode constants of the GDDR class (assumption: no result measured)");

      // Prefill kernel family (see kernelFamily/kernels in data/devices/compute.json for the source functions).
      const S = c.issueRate;
      const amd = c.vendor === "amd";
      const acc32 = c.kernelFamily === "cuda-volta" || amd; // ggml_cuda_mul_mat_cublas_impl: prefer_f32_output on Volta, RDNA4, CDNA
      const fp16Peak = acc32 ? c.fp16TensorAcc32 ?? c.fp16Tensor : c.fp16Tensor;
      const build = shape.options?.llamaCppBuild;
      let family: string;
      let matmul: number | undefined;
      // What binds, formatted only when a basis is read (speedOf runs in tight loops).
      let bound = () => "";
      const roof = (peak: number | undefined, f: "mmq" | "blas16" | "deqblas") => {
        const k = fam[f];
        const r = tensorRoofline(peak, k.eta, S, k.theta);
        if (r) (matmul = r.flops), (bound = () => (r.bound === "tensor" ? `${k.eta.toFixed(3)} × tensor peak` : `${k.theta.toFixed(0)} FLOP per SM·clock`));
      };
      if (metal) {
        family = "metal kernel_mul_mm";
        matmul = etaMetal[w] * A * (ultra ? v.ultra_pp : 1);
        bound = () => `${etaMetal[w].toFixed(3)} × ALU rate${ultra ? ` × ${v.ultra_pp.toFixed(3)} (Ultra)` : ""}`;
      } else if (backend === "Vulkan" || (backend === "ROCm" && w !== "F16" && !(c.kernelFamily === "rocm-cdna2" && w !== "Q4_0"))) {
        // ROCm MMQ (MFMA/WMMA) and Vulkan on AMD share one rate per CU·clock; Vulkan on NVIDIA (and Intel, assumed) another.
        family = amd ? (backend === "Vulkan" ? "Vulkan mul_mm (AMD)" : "ROCm MMQ") : "Vulkan mul_mm";
        const theta = amd ? v.theta_amd : v.theta_vk;
        if (S) (matmul = theta * S), (bound = () => `${theta.toFixed(0)} FLOP per ${amd ? "CU" : "SM"}·clock`);
        if (c.vendor !== "nvidia") notes.push("Vulkan on this vendor: NVIDIA Vulkan constants (assumption: no derivation result)");
      } else if (w === "F16") {
        family = acc32 ? "BLAS GEMM, FP32 accumulate" : "cuBLAS GEMM, FP16 accumulate";
        roof(fp16Peak, "blas16");
      } else if (c.kernelFamily === "cuda-volta" || amd || (build !== undefined && build < MMQ_DEFAULT_BUILD)) {
        // mmq.cu ggml_cuda_should_use_mmq: Volta (no int8 MMA) and CDNA2 K-quants above 256 rows fall back to dequantize + BLAS.
        family = "dequantize + BLAS GEMM";
        roof(fp16Peak, "deqblas");
      } else {
        family = "CUDA MMQ (int8 mma)";
        roof(c.int8Tensor ?? c.fp16Tensor, "mmq");
      }
      if (!matmul) return { missing: missingSpec(c, S ? "fp16Tensor" : "issueRate", S ? "the 16-bit tensor peak" : "SMs × clock (issue rate)") };

      const m = memory[mem];
      const k = group[g];
      const a = m.a * (ultra ? v.ultra_dec : 1);
      const rate = matmul;
      return {
        bandwidthFraction: 1 / a,
        layerSeconds: m.tau,
        opsPerWeight: k.delta[w],
        aluFlops: A,
        kvReadFactor: k.kappa,
        kvPerQueryHead: !fa,
        opsPerScore: k.omega,
        matmulFlops: matmul,
        ubatch,
        dequantCopy: family === "dequantize + BLAS GEMM",
        promptBytesPerScore: fa ? 0 : k.cbw,
        promptOpsPerScore: k.calu,
        decodeScale: 1,
        prefillScale: 1,
        get basis() {
          return [
            ...notes,
            `llama.cpp ${backend}: decode streams at ${(100 / a).toFixed(1)}% of peak bandwidth (${mem}${ultra ? ", Ultra" : ""}), ${(m.tau * 1e6).toFixed(1)} µs per layer, ${k.delta[w].toFixed(2)} ALU ops per ${w} weight`,
            `prefill: ${family} at ${bound()} = ${(rate / 1e12).toFixed(1)} TFLOP/s, micro-batches of ${ubatch}`,
            fa ? "flash attention on: K/V read once per KV head, prompt scores not materialised (not validated: every fitted result ran without it)" : "flash attention off: K/V read per query head, prompt scores materialised",
          ];
        },
      };
    },
  };
}

/** llama.cpp's speed with the fitted constants. */
export const LLAMACPP_KERNELS: EngineSpeed = llamaCppSpeed(LLAMACPP_SPEED);
