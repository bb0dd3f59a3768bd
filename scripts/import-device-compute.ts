// One-off import: the speed model's compute figures per catalog device -> data/devices/compute.json.
// Input: the cited research table (device-compute.json: tensor rates with the accumulation llama.cpp and vLLM use,
// INT8, FP32/ALU, SMs × clock, kernel families per backend, memory type, Apple dies), plus the figures cited below
// for devices that table left without one. Every numeric field is a number or a reason in `missing`.
// Re-run when the research table changes: `npx tsx scripts/import-device-compute.ts <device-compute.json>`.
import { readFileSync, writeFileSync } from "node:fs";

const src = process.argv[2] ?? "/work/research/speed/device-compute.json";
const out = new URL("../data/devices/compute.json", import.meta.url);
const catalog = JSON.parse(readFileSync(new URL("../data/devices/devices.json", import.meta.url), "utf8")) as { devices: Array<{ id: string; category: string }> };
const research = JSON.parse(readFileSync(src, "utf8")) as Record<string, any>;

const NUMERIC = ["fp16TensorTflops", "fp16Acc32Tflops", "int8Tops", "fp32Tflops", "aluTflops", "issueGhz"] as const;
const FROM: Record<(typeof NUMERIC)[number], string> = {
  fp16TensorTflops: "fp16TensorFlops",
  fp16Acc32Tflops: "fp16AccumulateFp32Flops",
  int8Tops: "int8Tops",
  fp32Tflops: "fp32Flops",
  aluTflops: "aluFlops",
  issueGhz: "issueRate",
};
const ISSUE = "derived: ALU rate / (2 × FP32 lanes per SM or CU) = SMs (CUs, Xe cores) × boost clock (lanes per SM: V100, T4, A100 whitepapers 64; GA102, AD102, GH100, GB202 128; CDNA 64 per CU; RDNA3 128 counting dual issue; Xe2 128 per Xe core)";

/** Figures the research table did not have, each with its citation (read through the project's search corpus). */
const ADDED: Record<string, { fields: Partial<Record<(typeof NUMERIC)[number], number>>; sources: Record<string, string>; conflicts?: string[]; kernelFamily?: string; logicalDevices?: { count: number; source: string } }> = {
  "b200-sxm": {
    fields: { fp32Tflops: 75, aluTflops: 75, issueGhz: 148 * 1.98 },
    sources: {
      fp32Tflops: "NVIDIA HGX B200 specification table (\"FP32 | 80 TFLOPS | 75 TFLOPS\" for GB200 NVL72 | HGX B200), read via zdszero.github.io/Computer/Artificial_Intelligence/Hardware.html; hmc-tech.com/gpus/nvidia-b200-vs-nvidia-b100: 75.02 TFLOPS, 148 SMs, 1.98 GHz boost",
      issueGhz: "148 SMs × 1.98 GHz (hmc-tech.com/gpus/nvidia-b200-vs-nvidia-b100) = 75e12 / (2 × 128)",
    },
    conflicts: ["glennklockwood.com/garden/processors/B200: FP32 80 TFLOPS (VFMA) for HGX B200 at 1,000 W"],
  },
  mi250x: {
    fields: { fp32Tflops: 47.9, aluTflops: 47.9, issueGhz: 220 * 1.7 },
    sources: {
      fp32Tflops: "AMD Instinct MI200 table (\"MI250x 220 [CUs] 14,080 [stream processors] Up to 47.9 TF [FP64 | FP32 vector]\"), read via zexron.com/amd-mi250-x-aldebaran-as-mcm-with-up-to-479-teraflop-s-and-560-watt-tdp",
      issueGhz: "220 CUs × 1.7 GHz (same table; tomshardware.com MI250X article: 1.70 GHz)",
    },
    logicalDevices: { count: 2, source: "ROCm docs, AMD Instinct MI250 microarchitecture (rocm.docs.amd.com conceptual/gpu-arch/mi250.html, read via a movatter.jp mirror): each of the two GCDs has its own HBM2e at 1.6 TB/s and is one device to the runtime" },
  },
  mi250: {
    fields: { fp32Tflops: 45.3, aluTflops: 45.3, issueGhz: 208 * 1.7 },
    sources: {
      fp32Tflops: "AMD Instinct MI200 table (\"MI250 208 [CUs] 13,312 [stream processors] Up to 45.3 TF [FP64 | FP32 vector]\"), read via zexron.com/amd-mi250-x-aldebaran-as-mcm-with-up-to-479-teraflop-s-and-560-watt-tdp",
      issueGhz: "208 CUs × 1.7 GHz (ROCm docs MI250 microarchitecture: 104 CUs per GCD at 1.7 GHz peak)",
    },
    logicalDevices: { count: 2, source: "ROCm docs, AMD Instinct MI250 microarchitecture (rocm.docs.amd.com conceptual/gpu-arch/mi250.html, read via a movatter.jp mirror): each of the two GCDs has its own HBM2e at 1.6 TB/s and is one device to the runtime" },
  },
  "arc-pro-b60": {
    fields: { fp16Acc32Tflops: 98.3, fp32Tflops: 12.29, aluTflops: 12.29, issueGhz: 20 * 2.4 },
    sources: {
      fp16Acc32Tflops: "hmc-tech.com/gpu/intel-arc-pro-b60-vs-nvidia-quadro-p620: \"98.3 TFLOPS Tensor (FP32 Accumulate)\" FP16 (XMX)",
      fp32Tflops: "hmc-tech.com/gpu/intel-arc-pro-b60-vs-nvidia-quadro-p620: FP32 12.29 TFLOPS, 2,560 shaders at 2,400 MHz (also technical.city, chipversus.com: 12.29 TFLOPS)",
      issueGhz: "20 Xe2 cores × 2.4 GHz (2,560 shaders / 128 per Xe core; hmc-tech.com)",
    },
    conflicts: ["hmc-tech.com lists 98.3 TFLOPS FP16 tensor (FP32 accumulate) and 196.61 TOPS INT8: same as the aiconfigurator figures kept"],
  },
  "ryzen-ai-max-395": {
    fields: { fp16TensorTflops: (40 * 512 * 2.9) / 1000, fp16Acc32Tflops: (40 * 512 * 2.9) / 1000, int8Tops: (40 * 512 * 2.9) / 1000, fp32Tflops: (40 * 128 * 2 * 2.9) / 1000, aluTflops: (40 * 128 * 2 * 2.9) / 1000, issueGhz: 40 * 2.9 },
    sources: {
      fp16TensorTflops: "derived as for the RX 7900 XTX (RDNA3 WMMA: 512 FP16 FLOP per CU per clock): 40 CUs × 512 × 2.9 GHz; Radeon 8060S 40 CUs, 2,900 MHz boost (fpsbench.com/compare/gpu/amd-radeon-8060s-vs-amd-radeon-890m)",
      fp16Acc32Tflops: "WMMA FP32 accumulate at the same rate (as RDNA3)",
      int8Tops: "WMMA INT8 at the FP16 rate (as RDNA3)",
      fp32Tflops: "40 CUs × 128 lanes (dual issue, the RX 7900 XTX convention) × 2 × 2.9 GHz; fpsbench.com lists 14.85 TFLOPS FP32 counting single issue and 29.70 TFLOPS FP16",
      issueGhz: "40 CUs × 2.9 GHz (fpsbench.com)",
    },
  },
  // Derived: no source publishes the A10G's FP32 rate; every input is cited. GA10x (compute capability 8.6) SMs have
  // 128 FP32 lanes (2× FP32 per SM), so FP32 = SMs × 128 × 2 FLOP (FMA) × clock.
  a10g: {
    fields: { fp32Tflops: (80 * 128 * 2 * 1.71) / 1000, aluTflops: (80 * 128 * 2 * 1.71) / 1000, issueGhz: 80 * 1.71 },
    sources: {
      fp32Tflops: "derived: 80 SMs × 128 FP32 lanes × 2 (FMA) × 1.71 GHz. SMs: torch.cuda.get_device_properties on an A10G, \"name='NVIDIA A10G', major=8, minor=6, ... multi_processor_count=80\" (docs.pytorch.org/torchcodec/stable/generated_examples/decoding/basic_cuda_example.html, its first output cell; also \"NVIDIA A10G, 80 SMs ... GA102\", file 55444537300); 128 lanes: GA10x (SM8.6) is the first family with 2× FP32 per SM (forums.developer.nvidia.com/t/separate-cuda-core-pipeline-for-fp16-and-fp32/302018/7; GA102 whitepaper, as for the A40/RTX A6000); clock: \"A10G 1710 MHz\" as recorded on g5 instances, one of them pinned there (public index files 70693949143, 55054809708, 55438729378). Agrees in direction with baseten.co/blog/nvidia-a10-vs-a10g-for-ml-model-inference: \"the A10 prioritizes tensor compute, while the A10G has a higher CUDA core performance\" (A10: 31.2)",
      issueGhz: "80 SMs × 1.71 GHz (sources as for fp32Tflops)",
    },
    conflicts: [
      "huggingface.co/docs/hugs/hardware lists the A10G with 9216 CUDA cores, 288 tensor cores, 72 RT cores (the A10's figures, i.e. 72 SMs); torch on a real A10G reports 80 SMs",
      "an AWS GPU AMI setup script (public index file 3710272890) sets A10G application clocks to 6251,1695 MHz (the A10's boost clock): 0.9% below the 1710 MHz used",
      "RajBhope/gpu-runtime-predictor gpu_catalog.json (Hugging Face): A10G fp32_tflops 31.2 with 9216 CUDA cores and boost 1695 MHz but sm_count 80 (internally inconsistent)",
    ],
  },
  // Derived: AMD publishes no FLOP rate for Genoa; every input is cited. llama.cpp's CPU backend runs every core, so
  // the base clock (the guaranteed all-core clock) is used, not the 3.7 GHz single-core boost.
  "epyc-9654": {
    fields: { fp32Tflops: (96 * 32 * 2.4) / 1000, aluTflops: (96 * 32 * 2.4) / 1000 },
    sources: {
      fp32Tflops: "derived: 96 cores × 32 FP32 FLOP per cycle × 2.4 GHz base clock. Cores, clock: hpctech.co.jp/product/amd-epyc-9004-series (\"EPYC 9654 / P | 96 | 192 | 2.40 | 3.70\": cores, threads, base GHz, max boost GHz; \"AVX-512 (256b data path)\"); llmperf.net AMD EPYC 9000 page (TechPowerUp: base 2.40 GHz, max turbo 3.70 GHz). FLOP per cycle: two 256-bit FMA pipes × 8 FP32 lanes × 2 (FMA), the formula of stackoverflow.com/questions/15655835 ((FMAs per clock) × (vector elements) × 2); Zen 2/3 have 2 × 256-bit FMA (wlog.flatlib.jp/2024/01/13/ryzen-zen3-vfpbench), Zen 4 runs AVX-512 double-pumped on that same 256-bit hardware (numberworld.org/blogs/2024_8_7_zen5_avx512_teardown)",
    },
  },
};

/** Reasons written for this table where the research note is terse or names its own fields. */
const REASONS: Record<string, string | Record<string, string>> = {
  "v100-sxm2-32gb": "Volta has no INT8 tensor cores (llm-analysis peak_i8_TFLOPS 0); llama.cpp runs dp4a MMQ below 64 rows, dequantize + cuBLAS FP16 above",
  a40: "no cited FP32 figure for the A40 (its ALU rate is derived instead: pro GA102 parts have FP16 tensor = 4 × FP32, as the RTX A6000's 154.8 / 38.7)",
  "arc-a770-16gb": "no cited XMX (tensor) rate for the Arc A770; llama.cpp's Vulkan prefill is modelled by Xe cores × clock",
};

/** Why a figure is absent, per device kind (never a silent null). */
function reason(field: string, r: any, category: string, id: string): string {
  const own = REASONS[id];
  if (typeof own === "string") return own;
  if (own?.[field]) return own[field];
  if (category === "apple-silicon") {
    if (field === "int8Tops") return "Apple GPUs have no int8 matrix unit; llama.cpp Metal dequantizes to half in kernel_mul_mm";
    if (field === "fp16Acc32Tflops") return "Apple: simdgroup_matrix runs on the FP32 ALUs, no separate accumulate mode (fp16TensorTflops is the ALU rate)";
    if (field === "issueGhz") return "Apple: the Metal kernels are modelled by the ALU rate (cores × 128 × 2 × clock), not SMs × clock";
  }
  if (category === "cpu" || category === "apu") {
    if (field === "issueGhz") return "CPU: the CPU backend is modelled by its FP32 rate, not SMs × clock";
    return String(r.missing ?? "no matrix unit figure").replace(/^[\w/]+: /, "").replace(/; prefill (not )?predicted.*$/, "");
  }
  if (field === "fp16Acc32Tflops" && r.kernelFamilyId?.startsWith("cuda")) return "not read separately";
  return r.missing ?? "no citable figure read";
}

const devices: Record<string, unknown> = {};
for (const d of catalog.devices) {
  const r = research[d.id];
  if (!r) throw new Error(`no compute figures for ${d.id}`);
  const add = ADDED[d.id];
  const e: Record<string, unknown> = { kernelFamily: add?.kernelFamily ?? r.kernelFamilyId, kernels: r.kernelFamily, memType: r.memType };
  const sources: Record<string, string> = {};
  const missing: Record<string, string> = {};
  for (const f of NUMERIC) {
    const raw = add?.fields[f] ?? r[FROM[f]];
    if (typeof raw === "number") {
      e[f] = add?.fields[f] !== undefined ? Number(raw.toFixed(4)) : Number((raw / (f === "issueGhz" ? 1e9 : 1e12)).toFixed(4));
      const s = add?.sources[f] ?? (f === "issueGhz" ? ISSUE : f === "aluTflops" && r.sources?.aluFlops === "fp32Flops" ? "fp32Tflops" : r.sources?.[FROM[f]]);
      sources[f] = s ?? (f === "aluTflops" ? "fp32Tflops" : "research table");
    } else {
      e[f] = null;
      missing[f] = reason(f, r, d.category, d.id);
    }
  }
  if (r.dies) e.dies = r.dies;
  if (r.gpuClockHz) e.gpuClockGhz = r.gpuClockHz / 1e9;
  if (add?.logicalDevices) e.logicalDevices = add.logicalDevices;
  if (r.memBwGbpsOverride) {
    e.memBwGbps = r.memBwGbpsOverride;
    sources.memBwGbps = "760.3 GB/s (public index file 41486010080); the spec table has no bandwidth for this card";
  }
  e.sources = sources;
  if (Object.keys(missing).length) e.missing = missing;
  const conflicts = [...(r.conflicts ?? []), ...(add?.conflicts ?? [])];
  if (conflicts.length) e.conflicts = conflicts;
  devices[d.id] = e;
}

const doc = {
  about:
    "Compute figures of every catalog device for the speed model (lib/calc/throughput.ts), keyed by the ids of devices.json. Each figure cites its source in `sources`; an absent figure says why in `missing`. Imported by scripts/import-device-compute.ts from the project's cited research table, see README.md.",
  fields: {
    fp16TensorTflops: "dense FP16 tensor peak with the accumulation llama.cpp's cuBLAS path uses on NVIDIA Turing and later (CUBLAS_COMPUTE_16F); GeForce cards run FP16 accumulate at 2× their FP32-accumulate rate",
    fp16Acc32Tflops: "dense FP16/BF16 tensor peak with FP32 accumulate (what vLLM/PyTorch use, and llama.cpp on Volta, RDNA4 and CDNA: prefer_f32_output)",
    int8Tops: "dense INT8 tensor peak (llama.cpp MMQ uses int8 mma on Turing and later)",
    fp32Tflops: "non-tensor FP32 peak",
    aluTflops: "the ALU rate the dequantization and attention terms use (FP32; Apple: GPU cores × 128 × 2 × clock)",
    issueGhz: "SMs (CUs, Xe cores) × boost clock in GHz: the instruction-issue rate quantized prefill kernels are bound by",
    kernelFamily: "which llama.cpp kernels run on the device (cuda-turing+, cuda-volta, rocm-cdna2, rocm-cdna3, rocm-rdna3, metal, vulkan, sycl, cpu); `kernels` names them with their source functions",
    memType: "memory technology (the decode bandwidth class: GDDR, HBM, Apple unified LPDDR, host DDR)",
    dies: "Apple Ultra chips: 2 dies over UltraFusion",
    logicalDevices: "boards the runtime sees as several devices (MI250/MI250X: two GCDs, each with half the board's memory, bandwidth and compute)",
    memBwGbps: "peak bandwidth where devices.json has none",
  },
  devices,
};
writeFileSync(out, JSON.stringify(doc, null, 1) + "\n");
console.log(`${Object.keys(devices).length} devices`);
