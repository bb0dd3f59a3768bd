// vLLM's start-up rules per release, checked against the verbatim 0.19.0 `vllm serve` logs of the llm-d-planner
// accuracy campaign (data/evidence/logs; vLLM cannot run here, so its printed DEBUG figures are the fixture), and the
// constants vLLM measures rather than computes (plugins/engine-vllm/measured.ts) against the derivation logs they
// name — never a held-out one.
import { describe, expect, it } from "vitest";
import { makeDeployment } from "../../lib/calc/index.js";
import type { ModelSpec } from "../../lib/calc/index.js";
import { engineDevice } from "../../lib/fleet/devices.js";
import { CUDA_GRAPH_ESTIMATE_GIB, FORWARD_RESIDUALS, NON_TORCH_H100_GIB, TORCH_WORKSPACE_GIB, parseVllmLog, ropeCacheBytes, samplerPath, vllmKvFromBudget, vllmSchedulerDefaults, vllmStartup, VLLM_DEFAULT_RELEASE } from "../../plugins/engine-vllm/index.js";
import { evidenceLog, loadEvidence } from "../../loaders/evidence/index.js";
import { resolveModel } from "../../loaders/models.js";
import { engine } from "../../plugins/engines.js";
import { runCli, runCliJson } from "../helpers/cli.js";

const GIB = 1024 ** 3;
const ev = loadEvidence();
const cases = ev.files["vllm.json"].cases;
const caseOfLog = new Map(cases.map((c) => [c.source.log, c]));
const load = async (ref: string) => (await resolveModel(ref, { offline: true })).model;
const facts = (name: string) => parseVllmLog(evidenceLog(name));
const h100 = engineDevice("h100-sxm-80gb");
const dep019 = (m: ModelSpec, o: { tp?: number; pp?: number } = {}) =>
  makeDeployment(m, { engine: engine("vllm"), context: 8192, tp: o.tp, pp: o.pp, kvDtype: "bf16", options: { vllmVersion: "0.19.0", device: h100 } });
const log019 = (name: string) => `vllm-llmdplanner-${name}-h100-80gb-tp1-0.19.0.log`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const gib = (b: number) => b / GIB;

describe("measured constants come from derivation logs only (measured.ts)", () => {
  const named = [
    ...Object.values(NON_TORCH_H100_GIB).flatMap((r) => r.logs),
    ...TORCH_WORKSPACE_GIB.logs,
    ...FORWARD_RESIDUALS.logs,
    ...CUDA_GRAPH_ESTIMATE_GIB.logs,
  ];
  it("every log a constant names is a derived case's, none is held out", () => {
    for (const log of new Set(named)) {
      const c = caseOfLog.get(log);
      expect(c, log).toBeDefined();
      expect(c!.set, log).toBe("derived");
    }
  });

  it("non-torch: the median (TP 1) or mean (TP 2) of the named logs' printed figures", () => {
    const printed = (logs: readonly string[]) => logs.map((l) => Math.round(gib(facts(l).profileByStage[0].nonTorchBytes) * 100) / 100);
    expect(median(printed(NON_TORCH_H100_GIB.tp1.logs))).toBe(NON_TORCH_H100_GIB.tp1.gib);
    const tp2 = printed(NON_TORCH_H100_GIB.tp2.logs);
    expect((tp2[0] + tp2[1]) / 2).toBeCloseTo(NON_TORCH_H100_GIB.tp2.gib, 10);
    expect(printed(NON_TORCH_H100_GIB.tp4.logs)).toEqual([NON_TORCH_H100_GIB.tp4.gib]);
    expect(printed(NON_TORCH_H100_GIB.ppOnly.logs)).toEqual([NON_TORCH_H100_GIB.ppOnly.gib]);
  });

  it("CUDA graph estimate: the medians of the named logs' 'Estimated CUDA graph memory' by layout", () => {
    const est = (logs: string[]) => logs.map((l) => Math.round(gib(facts(l).estimatedCudaGraphBytes!) * 100) / 100);
    const tp1 = CUDA_GRAPH_ESTIMATE_GIB.logs.filter((l) => l.endsWith("-tp1-0.19.0.log") && !l.includes("-pp4-"));
    expect(tp1).toHaveLength(15);
    expect(median(est(tp1))).toBe(CUDA_GRAPH_ESTIMATE_GIB.tp1);
    expect(median(est(CUDA_GRAPH_ESTIMATE_GIB.logs.filter((l) => l.includes("-tp2-"))))).toBeCloseTo(CUDA_GRAPH_ESTIMATE_GIB.tp2, 10);
    expect(est(CUDA_GRAPH_ESTIMATE_GIB.logs.filter((l) => l.includes("-tp4-")))).toEqual([CUDA_GRAPH_ESTIMATE_GIB.tp4]);
  });
});

describe("weights per rank include the RoPE cos/sin tables (rotary_embedding get_rope)", () => {
  it("Gemma 3: a linear ×8 global table and a local default one, 0.5625 GiB at head_dim 256, 0.28125 GiB at 128", async () => {
    expect(gib(ropeCacheBytes(await load("google/gemma-3-4b-it"), 2).bytes)).toBe(0.5625);
    expect(gib(ropeCacheBytes(await load("google/gemma-3-27b-it"), 2).bytes)).toBe(0.28125);
  });

  it("Llama 4 Scout: 10,485,760 positions × 128 × 2 bytes = 2.5 GiB on every rank", async () => {
    expect(gib(ropeCacheBytes(await load("meta-llama/Llama-4-Scout-17B-16E-Instruct"), 2).bytes)).toBe(2.5);
  });

  for (const [id, log, tp] of [
    ["google/gemma-3-4b-it", log019("gemma-3-4b-it"), 1],
    ["google/gemma-3-12b-it", log019("gemma-3-12b-it"), 1],
    ["google/gemma-3-27b-it", log019("gemma-3-27b-it"), 1],
    ["meta-llama/Llama-4-Scout-17B-16E-Instruct", "vllm-llmdplanner-llama-4-scout-17b-16e-instruct-h100-80gb-tp4-0.19.0.log", 4],
  ] as const) {
    it(`${id}: "Model loading took" within 0.3% (8.58 / 23.31 / 51.45 / 53.12 GiB, were 7% / 3% / 0.7% / 5% short)`, async () => {
      const m = await load(id);
      const w = vllmStartup(m, dep019(m, { tp }), 79.19 * GIB, 0.95).weightsBytes[0];
      const logged = facts(log).weightsBytes!;
      expect(Math.abs(w / logged - 1)).toBeLessThan(0.003);
    });
  }
});

describe("pipeline parallel: every stage profiles itself and the last one binds (pp-stages.ts)", () => {
  it("Llama 3.1 8B at PP 2: the printed PP0 budget for every stage gives the issue's +1.4%; the per-stage rule the logged tokens", async () => {
    const m = await load("meta-llama/Llama-3.1-8B-Instruct");
    const d = dep019(m, { pp: 2 });
    const f = facts("vllm-llmdplanner-llama-3.1-8b-instruct-pp2-h100-80gb-tp1-0.19.0.log");
    const fromPrinted = vllmKvFromBudget(m, d, [f.availableKvBytes!, f.availableKvBytes!]).kvCapacityTokens;
    expect(fromPrinted / f.kvCapacityTokens! - 1).toBeCloseTo(0.0137, 3);
    const s = vllmStartup(m, d, 79.19 * GIB, 0.95);
    expect(s.availableBytes[1]).toBeLessThan(s.availableBytes[0]);
    expect(s.basis.join(" ")).toContain("pipeline stage 1 binds");
    // The last stage: sampler warm-up + intermediate tensors + torch workspaces = the logged 2.01 GiB.
    expect(gib(s.peakBytes[1])).toBeCloseTo(gib(f.profileByStage[1].torchPeakBytes), 2);
    const tokens = vllmKvFromBudget(m, d, s.availableBytes).kvCapacityTokens;
    expect(Math.abs(tokens / f.kvCapacityTokens! - 1)).toBeLessThan(0.0005);
  });
});

describe("scheduler defaults by GPU and entry point (arg_utils.py get_batch_defaults)", () => {
  it("follow the --device's memory as the engine sees it and its name (A100s keep the small defaults)", () => {
    expect(vllmSchedulerDefaults(h100)).toEqual({ maxNumBatchedTokens: 8192, maxNumSeqs: 1024 });
    expect(vllmSchedulerDefaults(engineDevice("a100-sxm4-80gb"))).toEqual({ maxNumBatchedTokens: 2048, maxNumSeqs: 256 });
    expect(vllmSchedulerDefaults(h100, undefined, "llm")).toEqual({ maxNumBatchedTokens: 16384, maxNumSeqs: 1024 });
    expect(vllmSchedulerDefaults(engineDevice("rtx-4090"), undefined, "llm")).toEqual({ maxNumBatchedTokens: 8192, maxNumSeqs: 256 });
    expect(vllmSchedulerDefaults(h100, "0.28.0").maxNumBatchedTokens).toBe(16384);
    expect(vllmSchedulerDefaults(undefined)).toEqual({ maxNumBatchedTokens: 2048, maxNumSeqs: 256 });
  });

  it("the default release is 0.19.0, and the sampler path follows the release", () => {
    expect(VLLM_DEFAULT_RELEASE).toBe("0.19.0");
    expect(samplerPath(undefined, undefined, 1024)).toBe("triton");
    expect(samplerPath("0.19.0", undefined, 4)).toBe("sort");
    expect(samplerPath("0.19.0", "flashinfer", 1024)).toBe("flashinfer-logits");
    expect(samplerPath("0.13.0", undefined, 1024)).toBe("sort");
    expect(samplerPath("0.10.1.1", "flashinfer", 256)).toBe("flashinfer-probs");
    expect(samplerPath("0.21.0", "flashinfer", 1024)).toBe("triton");
  });
});

describe("--device: memory as the engine sees it (lib/fleet/devices.ts engineDevice)", () => {
  it("H100 SXM 80GB: 79.19 GiB as the vLLM 0.19 logs print it, the driver's name, 132 SMs", () => {
    expect(h100.memoryBytes).toBe(Math.round(79.19 * GIB));
    expect(facts(log019("qwen2.5-7b-instruct")).totalMemoryBytes).toBe(h100.memoryBytes);
    expect(h100.name).toBe("NVIDIA H100 80GB HBM3");
    expect(h100.computeUnits).toBe(132);
    expect(h100.nominal).toBe(false);
    expect(h100.deviceClass).toBe("cuda");
  });

  it("a device with no real output of its total uses the size as sold, and says so", () => {
    const l4 = engineDevice("l4");
    expect(l4.nominal).toBe(true);
    expect(l4.memoryBytes).toBe(24 * GIB);
    expect(l4.memoryBasis).toMatch(/as sold/);
    expect(() => engineDevice("h100-sxm-81gb")).toThrow(/unknown device/);
  });

  it("fit --model google/gemma-3-12b-it --engine vllm --device h100-sxm-80gb --context 8192 works offline", () => {
    const r = runCli(["fit", "--model", "google/gemma-3-12b-it", "--engine", "vllm", "--device", "h100-sxm-80gb", "--context", "8192"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^google\/gemma-3-12b-it on vllm: KV capacity \d+ tokens/);
    // Same as the total given by hand; --gpu-memory-gib overrides the device's memory, the name still sets the defaults.
    const base = ["fit", "--model", "google/gemma-3-12b-it", "--engine", "vllm", "--context", "8192", "--gpu-memory-utilization", "0.95"];
    const byDevice = runCliJson([...base, "--device", "h100-sxm-80gb"]);
    expect(byDevice.kvCapacityTokens).toBe(runCliJson([...base, "--gpu-memory-gib", "79.19"]).kvCapacityTokens);
    expect(byDevice.basis[0]).toMatch(/total_memory=79\.19GiB/);
    // The held-out log of this run prints 130,304 tokens.
    expect(Math.abs(byDevice.kvCapacityTokens / 130304 - 1)).toBeLessThan(0.01);
    const a100 = runCliJson([...base, "--device", "a100-sxm4-80gb", "--gpu-memory-gib", "79.25"]);
    const unnamed = runCliJson([...base, "--gpu-memory-gib", "79.25"]);
    expect(a100.kvCapacityTokens).toBeGreaterThan(unnamed.kvCapacityTokens); // 2048 / 256 defaults: a smaller warm-up
  });

  it("plan, speed and split take the same ids; a bad id is one line and exit 2", () => {
    const p = runCliJson(["plan", "--model", "Qwen/Qwen3-8B", "--engine", "vllm", "--context", "8192", "--device", "h100-sxm-80gb"]);
    const q = runCliJson(["plan", "--model", "Qwen/Qwen3-8B", "--engine", "vllm", "--context", "8192"]);
    expect(p.memory.activationBytes).toBeGreaterThan(q.memory.activationBytes); // 1024 dummy requests instead of 256
    for (const args of [
      ["plan", "--model", "Qwen/Qwen3-8B", "--engine", "vllm", "--context", "8192", "--device", "nope"],
      ["fit", "--model", "Qwen/Qwen3-8B", "--engine", "vllm", "--device", "nope"],
      ["speed", "--model", "Qwen/Qwen3-8B", "--engine", "vllm", "--device", "nope"],
      ["split", "--model", "Qwen/Qwen3-8B", "--engine", "vllm", "--devices", "h100-sxm-80gb,nope"],
    ]) {
      const r = runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/unknown device "nope"/);
    }
    expect(runCli(["fit", "--model", "Qwen/Qwen3-8B", "--engine", "vllm"]).stderr).toMatch(/give --device, --gpu-memory-gib or --kv-budget-gib/);
  });
});
