// llama.cpp's speed part: which kernels run on a device for a weight type (from the llama.cpp source, cited per
// rule) and what they reach (the constants of speed-constants.ts, fitted by scripts/fit-speed.ts on the derivation
// cases of data/evidence/cases/speed-llamacpp*.json only; the held-out cases judge them).
import { assumedKernels, missingSpec, tensorRoofline } from "../../lib/calc/index.js";
import type { DeploymentShape, DeviceCaps, DeviceCompute, EngineSpeed, Kernels } from "../../lib/calc/index.js";
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

/** The constants by name, looked up once per constant set (kernels() runs in tight loops). */
interface Tables {
  memory: Record<"gddr" | "hbm" | "apple", { a: number; tau: number }>;
  group: Record<"gpu" | "metal", { delta: Record<WeightClass, number>; kappa: number; omega: number; cbw: number; calu: number }>;
  family: Record<"mmq" | "blas16" | "deqblas", { eta: number; theta: number }>;
  etaMetal: Record<WeightClass, number>;
  thetaAmd: number;
  thetaVk: number;
  ultraDec: number;
  ultraPp: number;
}

function tablesOf(v: LlamaCppSpeedConstants): Tables {
  const by = <K extends string, T>(keys: readonly K[], f: (k: K) => T) => Object.fromEntries(keys.map((k) => [k, f(k)])) as Record<K, T>;
  return {
    memory: by(["gddr", "hbm", "apple"] as const, (k) => ({ a: v[`a_${k}`], tau: v[`tau_${k}`] })),
    group: by(["gpu", "metal"] as const, (g) => ({ delta: by(WEIGHT_CLASSES, (w) => v[`delta_${g}_${w}`]), kappa: v[`kappa_${g}`], omega: v[`omega_${g}`], cbw: v[`cbw_${g}`], calu: v[`calu_${g}`] })),
    family: by(["mmq", "blas16", "deqblas"] as const, (f) => ({ eta: v[`eta_${f}`], theta: v[`theta_${f}`] })),
    etaMetal: by(WEIGHT_CLASSES, (w) => v[`eta_metal_${w}`]),
    thetaAmd: v.theta_amd,
    thetaVk: v.theta_vk,
    ultraDec: v.ultra_dec,
    ultraPp: v.ultra_pp,
  };
}

type Family = "metal" | "amd" | "vk" | "blas16" | "deqblas" | "mmq";
const FAMILY_LABEL: Record<Family, string> = {
  metal: "Metal kernel_mul_mm",
  amd: "ROCm MMQ / Vulkan mul_mm on AMD",
  vk: "Vulkan mul_mm",
  blas16: "BLAS GEMM on F16 weights",
  deqblas: "dequantize + BLAS GEMM",
  mmq: "CUDA MMQ (int8 mma)",
};

/**
 * Which kernels run a quantized or F16 prompt (the source functions are named in data/devices/compute.json `kernels`):
 * Metal kernel_mul_mm; ROCm MMQ (MFMA/WMMA) except F16 and CDNA2 K-quants above 256 rows (mmq.cu
 * ggml_cuda_should_use_mmq); Vulkan mul_mm (AMD and NVIDIA at their own rates); cuBLAS for F16; dequantize + BLAS on
 * Volta (no int8 MMA), CDNA2 K-quants and CUDA builds before PR #8075; else CUDA MMQ.
 */
function familyOf(c: DeviceCompute, backend: Backend, w: WeightClass, build: number | undefined): Family {
  if (backend === "Metal") return "metal";
  if (backend === "Vulkan") return c.vendor === "amd" ? "amd" : "vk";
  if (w === "F16") return "blas16";
  if (backend === "ROCm") return c.kernelFamily === "rocm-cdna2" && w !== "Q4_0" ? "deqblas" : "amd";
  if (c.kernelFamily === "cuda-volta" || (build !== undefined && build < MMQ_DEFAULT_BUILD)) return "deqblas";
  return "mmq";
}

/** Which roofline sets the prompt's matmul rate, and its constant (written out only when a basis is read). */
interface Bound {
  kind: "tensor" | "issue" | "alu";
  coef: number;
  per?: "SM" | "CU";
  ultra?: number;
}
const boundText = (b: Bound) =>
  b.kind === "tensor" ? `${b.coef.toFixed(3)} × tensor peak` : b.kind === "issue" ? `${b.coef.toFixed(0)} FLOP per ${b.per}·clock` : `${b.coef.toFixed(3)} × ALU rate${b.ultra ? ` × ${b.ultra.toFixed(3)} (Ultra)` : ""}`;

/** llama.cpp's kernels on one device: the numbers the model adds up, and (when read) the basis that says why. */
class LlamaCppKernels implements Kernels {
  decodeScale = 1;
  prefillScale = 1;
  constructor(
    readonly bandwidthFraction: number,
    readonly layerSeconds: number,
    readonly opsPerWeight: number,
    readonly aluFlops: number,
    readonly kvReadFactor: number,
    readonly kvPerQueryHead: boolean,
    readonly opsPerScore: number,
    readonly matmulFlops: number,
    readonly ubatch: number,
    readonly dequantCopy: boolean,
    readonly promptBytesPerScore: number,
    readonly promptOpsPerScore: number,
    private readonly why: { backend: Backend; mem: string; ultra: boolean; w: WeightClass; family: Family; bound: Bound; assumed?: string; device: DeviceCompute },
  ) {}

  get basis(): string[] {
    const y = this.why;
    const notes = [
      ...(y.assumed ? [y.assumed] : []),
      ...(y.device.memoryClass === "lpddr" ? ["LPDDR on a non-Apple GPU: decode constants of the GDDR class (assumption: no result measured)"] : []),
      ...(y.family === "vk" && y.device.vendor !== "nvidia" ? ["Vulkan on this vendor: NVIDIA Vulkan constants (assumption: no derivation result)"] : []),
    ];
    return [
      ...notes,
      `llama.cpp ${y.backend}: decode streams at ${(100 * this.bandwidthFraction).toFixed(1)}% of peak bandwidth (${y.mem}${y.ultra ? ", Ultra" : ""}), ${(this.layerSeconds * 1e6).toFixed(1)} µs per layer, ${this.opsPerWeight.toFixed(2)} ALU ops per ${y.w} weight`,
      `prefill: ${FAMILY_LABEL[y.family]} at ${boundText(y.bound)} = ${(this.matmulFlops / 1e12).toFixed(1)} TFLOP/s, micro-batches of ${this.ubatch}`,
      this.kvPerQueryHead ? "flash attention off: K/V read per query head, prompt scores materialised" : "flash attention on: K/V read once per KV head, prompt scores not materialised (not validated: every fitted result ran without it)",
    ];
  }
}

/** llama.cpp's kernels with a set of constants (the fit script passes candidates; the engine uses speed-constants.ts). */
export function llamaCppSpeed(v: LlamaCppSpeedConstants): EngineSpeed {
  const T = tablesOf(v);
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
      const g = T.group[metal ? "metal" : "gpu"];
      const mem = c.memoryClass === "unified" ? "apple" : c.memoryClass === "hbm" ? "hbm" : "gddr";
      const ultra = metal && c.dies === 2;
      const fa = flashAttentionOf(shape);
      const family = familyOf(c, backend, w, shape.options?.llamaCppBuild);
      const S = c.issueRate;
      let matmul: number | undefined;
      let bound: Bound;
      if (family === "metal") {
        matmul = T.etaMetal[w] * A * (ultra ? T.ultraPp : 1);
        bound = { kind: "alu", coef: T.etaMetal[w], ...(ultra ? { ultra: T.ultraPp } : {}) };
      } else if (family === "amd" || family === "vk") {
        // ROCm MMQ (MFMA/WMMA) and Vulkan on AMD share one rate per CU·clock; Vulkan on NVIDIA (and Intel, assumed) another.
        const theta = family === "amd" ? T.thetaAmd : T.thetaVk;
        matmul = S ? theta * S : undefined;
        bound = { kind: "issue", coef: theta, per: family === "amd" ? "CU" : "SM" };
      } else {
        // ggml_cuda_mul_mat_cublas_impl: prefer_f32_output (FP32 accumulate) on Volta, RDNA4, CDNA; FP16 elsewhere.
        const acc32 = c.kernelFamily === "cuda-volta" || c.vendor === "amd";
        const peak = family === "mmq" ? (c.int8Tensor ?? c.fp16Tensor) : acc32 ? (c.fp16TensorAcc32 ?? c.fp16Tensor) : c.fp16Tensor;
        const f = T.family[family];
        const r = tensorRoofline(peak, f.eta, S, f.theta);
        matmul = r?.flops;
        bound = r?.bound === "tensor" ? { kind: "tensor", coef: f.eta } : { kind: "issue", coef: f.theta, per: c.vendor === "amd" ? "CU" : "SM" };
      }
      if (!matmul) return { missing: missingSpec(c, S ? "fp16Tensor" : "issueRate", S ? "the 16-bit tensor peak" : "SMs × clock (issue rate)") };
      const m = T.memory[mem];
      const a = m.a * (ultra ? T.ultraDec : 1);
      return new LlamaCppKernels(1 / a, m.tau, g.delta[w], A, g.kappa, !fa, g.omega, matmul, ubatch, family === "deqblas", fa ? 0 : g.cbw, g.calu, { backend, mem, ultra, w, family, bound, assumed, device: c });
    },
  };
}

/** llama.cpp's speed with the fitted constants. */
export const LLAMACPP_KERNELS: EngineSpeed = llamaCppSpeed(LLAMACPP_SPEED);
