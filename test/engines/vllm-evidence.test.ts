// vLLM's own start-up figures (verbatim public logs under data/evidence/logs, cases in data/evidence/cases/vllm.json)
// against hwledger's predictions (loaders/evidence: plan / fit, as the CLI calls them). vLLM cannot run here (no NVIDIA
// GPU), so the real engine's printed output is the fixture.
import { describe, expect, it } from "vitest";
import { makeDeployment } from "../../lib/calc/index.js";
import { CUDA_GRAPH_ESTIMATE_GIB, reportsConcurrencyTokens, reservesNullBlock, subtractsCudaGraphEstimate, vllmInFlightTokens, vllmKvFromBudget, vllmStartup } from "../../plugins/engine-vllm/index.js";
import { evidenceLog, evidenceRows, loadEvidence, readFigures } from "../../loaders/evidence/index.js";
import type { EvidenceRow } from "../../loaders/evidence/index.js";
import { resolveModel } from "../../loaders/models.js";
import { engine } from "../../plugins/engines.js";

const GIB = 1024 ** 3;
const ev = loadEvidence();
const cases = ev.files["vllm.json"].cases;
const rows = await evidenceRows(ev, cases);
const byCase = (id: string) => cases.find((c) => c.id === id)!;
const row = (id: string, figure: string, from: EvidenceRow["from"]) => rows.find((r) => r.case === id && r.figure === figure && r.from === from);
const reported = (id: string, figure: string) => rows.find((r) => r.case === id && r.figure === figure)!.reported;
const logged = cases.filter((c) => c.figures.some((f) => f.quantity === "kvTokens"));

describe("vLLM evidence cases", () => {
  it("covers at least 19 logged start-ups across attention kinds", () => {
    expect(logged.length).toBeGreaterThanOrEqual(19);
    const kinds = logged.flatMap((c) => c.tags).join(" ");
    for (const k of ["GQA", "MLA", "MoE", "sliding window", "fp8 KV", "TP", "PP"]) expect(kinds).toContain(k);
  });

  for (const c of cases) {
    it(`${c.id}: every figure is read from the verbatim log`, () => {
      for (const f of readFigures(c)) expect(f.value).toBeGreaterThan(0);
    });
  }

  // Integer block math: from the printed budget (two decimals, so ±0.005 GiB) the token count must fall inside the
  // range the rounding allows. A budget quoted for one worker of several is held separately below.
  const exact = rows.filter((r) => r.from === "budget" && r.held);
  it("predicts from the printed budget for at least 12 start-ups", () => expect(new Set(exact.map((r) => r.case)).size).toBeGreaterThanOrEqual(12));
  for (const r of exact.filter((x) => x.quantity === "kvTokens")) {
    it(`${r.case}: "GPU KV cache size" follows exactly from "Available KV cache memory"`, () => {
      expect(r.reported).toBeGreaterThanOrEqual(r.predictedRange![0]);
      expect(r.reported).toBeLessThanOrEqual(r.predictedRange![1]);
      expect(Math.abs(r.errorPct!)).toBeLessThan(0.1);
      const conc = row(r.case, "Maximum concurrency", "budget");
      if (conc) expect(Math.abs(conc.predicted! - conc.reported)).toBeLessThanOrEqual(Math.max(0.01, conc.reported * 0.001));
    });
  }

  it("qwen3-235b-a22b-fp8-tp4-21348: within 3% of one worker's quoted budget, never above it", () => {
    const r = row("qwen3-235b-a22b-fp8-tp4-21348", "GPU KV cache size", "budget")!;
    expect(r.held).toBe(false);
    expect(r.predictedRange![1]).toBeGreaterThanOrEqual(r.reported);
    expect(Math.abs(r.errorPct!)).toBeLessThan(3);
  });

  // Hybrid Mamba models: the attention block is raised until its page covers the Mamba page (HybridAttentionMamba
  // ModelConfig), and the SSM state is fp32 for NemotronH / Qwen3.5 (models/config.py). The smallest non-empty
  // cache holds one block per group, so its token count is the block size vLLM prints or implies.
  const smallestBlock = async (ref: string, dep: { tp: number; context: number; kvDtype: string; mnbt: number }) => {
    const model = (await resolveModel(ref, { offline: true })).model;
    const d = makeDeployment(model, { engine: engine("vllm"), context: dep.context, tp: dep.tp, kvDtype: dep.kvDtype as never, options: { maxNumBatchedTokens: dep.mnbt } });
    let lo = 0;
    let hi = 64 * GIB;
    while (hi - lo > 1024) {
      const mid = Math.floor((lo + hi) / 2);
      if (vllmKvFromBudget(model, d, [mid]).kvCapacityTokens > 0) hi = mid;
      else lo = mid;
    }
    return { model, d, tokens: vllmKvFromBudget(model, d, [hi]).kvCapacityTokens };
  };

  it("nemotron-3-nano-30b-a3b-nvfp4-tp2-fp8kv-33333: 4176-token blocks, and 222 blocks give the printed tokens and concurrency", async () => {
    const id = "nemotron-3-nano-30b-a3b-nvfp4-tp2-fp8kv-33333";
    const c = byCase(id);
    const tokens = reported(id, "GPU KV cache size");
    const concurrency = reported(id, "Maximum concurrency");
    const { model, d, tokens: block } = await smallestBlock(c.model.catalog!, { tp: c.settings.tp!, context: c.settings.context, kvDtype: c.settings.kvDtype!, mnbt: Number(c.settings.options!.maxNumBatchedTokens) });
    expect(block).toBe(4176);
    expect(tokens % 4176).toBe(0);
    // The budget on the worker that bound the cache is not printed; find the one that yields 222 blocks.
    let lo = 0;
    let hi = 4.02 * GIB;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (vllmKvFromBudget(model, d, [mid]).numBlocks >= 222) hi = mid;
      else lo = mid;
    }
    const r = vllmKvFromBudget(model, d, [hi]);
    expect(r.numBlocks).toBe(222);
    expect(r.kvCapacityTokens).toBe(tokens);
    expect(r.maxConcurrency.toFixed(2)).toBe(concurrency.toFixed(2));
    // TP0's printed 4.02 GiB alone would give about three times as many blocks: the other worker bound the cache.
    const fromTp0 = row(id, "GPU KV cache size", "budget")!;
    expect(fromTp0.held).toBe(false);
    expect(fromTp0.predicted!).toBeGreaterThan(tokens);
  });

  it("Qwen3.5-35B-A3B fp16 (ROCm issue 6055): attention block size 1056 tokens as vLLM prints", async () => {
    const text = evidenceLog("vllm-issue-rocm-6055-qwen3.5-35b-a3b-block-size-excerpt.log");
    expect(text).toContain("Setting attention block size to 1056 tokens");
    const { tokens } = await smallestBlock("Qwen/Qwen3.5-35B-A3B", { tp: 1, context: 8192, kvDtype: "f16", mnbt: 8192 });
    expect(tokens).toBe(1056);
  });

  // The start-up replay of each case follows the case's own release. Older releases (0.10–0.13 logs, A100 and H100):
  // within 3% as before; the 0.19 H100 runs: the held-out goal lives in test/evidence/held-out.test.ts.
  const gpuTokens = rows.filter((r) => r.from === "gpu" && r.quantity === "kvTokens" && r.held);
  const releaseOf = (id: string) => byCase(id).release;
  it("start-up replays of releases before 0.17 land within 3% of vLLM's token count", () => {
    const old = gpuTokens.filter((r) => !releaseOf(r.case).startsWith("0.19"));
    expect(old.length).toBeGreaterThanOrEqual(7);
    for (const r of old) expect(Math.abs(r.errorPct!), r.case).toBeLessThan(3);
  });

  it("0.19 derivation runs (their constants came from these logs) land within 0.5%", () => {
    const derived = gpuTokens.filter((r) => releaseOf(r.case) === "0.19.0" && r.set === "derived");
    expect(derived.length).toBeGreaterThanOrEqual(12);
    for (const r of derived) expect(Math.abs(r.errorPct!), r.case).toBeLessThan(0.5);
  });

  it("the budget itself (\"Available KV cache memory\") and the concurrency follow the tokens", () => {
    for (const r of rows.filter((x) => x.from === "gpu" && x.held && (x.quantity === "kvBudget" || x.quantity === "maxConcurrency"))) {
      const tokens = row(r.case, "GPU KV cache size", "gpu");
      // Budget-only records (llm-d-benchmark's table): the budget within 3%; a pipeline's printed budget is the first
      // stage's, whose peak (no sampler) is under-predicted by 0.1–0.2 GiB (not binding): within 1%.
      if (r.stage !== undefined) expect(Math.abs(r.errorPct!), `${r.case} ${r.figure}`).toBeLessThan(1);
      else if (tokens) expect(Math.abs(r.errorPct! - tokens.errorPct!), `${r.case} ${r.figure}`).toBeLessThan(0.2);
      else expect(Math.abs(r.errorPct!), `${r.case} ${r.figure}`).toBeLessThan(3);
    }
  });

  // "Model loading took": the weights each rank holds, RoPE tables included (rotary-embedding.ts).
  it('"Model loading took" within 1.5%, except gpt-oss\'s MXFP4 experts on H100 (layout not modelled)', () => {
    const weights = rows.filter((r) => r.quantity === "weightsPerRank" && r.predicted !== null);
    expect(weights.length).toBeGreaterThanOrEqual(40);
    for (const r of weights) {
      // vLLM 0.19 on H100 loads gpt-oss-20b 5-7% larger than the Triton padding rule of weights.ts gives (noticed, not changed).
      if (r.case.includes("gpt-oss") && r.hardware.includes("H100")) expect(r.errorPct!, r.case).toBeLessThan(-4);
      else expect(Math.abs(r.errorPct!), r.case).toBeLessThan(1.5);
    }
  });

  // Cases whose model is not in the catalog still check the concurrency rule of a single full-attention group:
  // concurrency = num_blocks / cdiv(max_model_len, 16) with num_blocks = tokens / 16.
  for (const id of ["fp8-kv-25350", "llama-3.2-1b-eager-0.9.0.1", "qwen3-vl-embedding-2b-t4-eager"]) {
    it(`${id}: printed concurrency = blocks / cdiv(max_model_len, 16)`, () => {
      const blocks = reported(id, "GPU KV cache size") / 16;
      expect(Number.isInteger(blocks)).toBe(true);
      expect((blocks / Math.ceil(byCase(id).settings.context / 16)).toFixed(2)).toBe(reported(id, "Maximum concurrency").toFixed(2));
    });
  }
});

// From vLLM 0.21 the printed "GPU KV cache size" is int(max_concurrency × max_model_len) (kv_cache_utils.py
// _report_kv_cache_config), so it need not be a multiple of the block size.
describe("vLLM 0.21+ token report", () => {
  it("reportsConcurrencyTokens: 0.21 and later; a malformed release is an input error", () => {
    expect(reportsConcurrencyTokens(undefined)).toBe(false);
    expect(reportsConcurrencyTokens("0.20.2")).toBe(false);
    expect(reportsConcurrencyTokens("0.21.0")).toBe(true);
    expect(reportsConcurrencyTokens("0.25.1")).toBe(true);
    expect(reportsConcurrencyTokens("1.0")).toBe(true);
    expect(() => reportsConcurrencyTokens("latest")).toThrow(/MAJOR.MINOR/);
  });

  it("the 0.25.1 Gemma 4 log obeys it: 3,875,400 tokens = 14.78x (two decimals) × 262,144", () => {
    const id = "gemma-4-26b-a4b-awq-dgx-spark-0.25.1";
    const tokens = reported(id, "GPU KV cache size");
    const concurrency = reported(id, "Maximum concurrency");
    const len = byCase(id).settings.context;
    expect(tokens % 16).not.toBe(0);
    expect(tokens).toBeGreaterThanOrEqual(Math.trunc((concurrency - 0.005) * len));
    expect(tokens).toBeLessThanOrEqual(Math.trunc((concurrency + 0.005) * len));
  });

  it("Gemma 3 27B's ROCm budget under 0.25: same blocks and concurrency, tokens = concurrency × max_model_len", async () => {
    const id = "gemma-3-27b-it-mi300x-rocm-0.11";
    const c = byCase(id);
    const model = (await resolveModel(c.model.catalog!, { offline: true })).model;
    const old = makeDeployment(model, { engine: engine("vllm"), context: c.settings.context, kvDtype: "bf16" });
    const now = { ...old, options: { ...old.options, vllmVersion: "0.25.1" } };
    const budget = [reported(id, "Available KV cache memory")];
    const a = vllmKvFromBudget(model, old, budget);
    const b = vllmKvFromBudget(model, now, budget);
    expect(a.kvCapacityTokens).toBe(reported(id, "GPU KV cache size"));
    expect(b.numBlocks).toBe(a.numBlocks);
    expect(b.maxConcurrency).toBe(a.maxConcurrency);
    expect(b.kvCapacityTokens).toBe(Math.trunc(a.maxConcurrency * c.settings.context));
    // Sliding layers are capped by their window, so the newer report is larger for this hybrid layout.
    expect(b.kvCapacityTokens).toBeGreaterThan(a.kvCapacityTokens);
  });
});

// Later start-up rules, each gated on EngineOptions.vllmVersion (absent = VLLM_DEFAULT_RELEASE, 0.19.0).
describe("vLLM release rules after 0.19", () => {
  it("gates: in-flight tokens from 0.26, null block from 0.28.1, CUDA graph estimate from 0.20 unless eager", () => {
    expect(vllmInFlightTokens(undefined, 8192, 1)).toBe(8192);
    expect(vllmInFlightTokens("0.25.1", 8192, 1)).toBe(8192);
    expect(vllmInFlightTokens("0.26.0", 8192, 1)).toBe(16384); // async scheduling: 2 batches in flight
    expect(vllmInFlightTokens("0.26.0", 8192, 4)).toBe(4 * 8192); // V1 runner with PP: pp batches
    expect(reservesNullBlock("0.28.0")).toBe(false);
    expect(reservesNullBlock("0.28.1")).toBe(true);
    expect(reservesNullBlock("0.29.0")).toBe(true);
    expect(subtractsCudaGraphEstimate(undefined)).toBe(false);
    expect(subtractsCudaGraphEstimate("0.19.1")).toBe(false);
    expect(subtractsCudaGraphEstimate("0.20.0")).toBe(true);
    expect(subtractsCudaGraphEstimate("0.21.0", true)).toBe(false);
    expect(subtractsCudaGraphEstimate("0.21.0", false, true)).toBe(false); // ROCm: skipped (gpu_worker.py)
    expect(() => vllmInFlightTokens("main", 8192, 1)).toThrow(/MAJOR.MINOR/);
  });

  it("vllm#49878 arithmetic (Gemma 4 31B, 0.25.1 → 0.26): a sliding group charges cdiv(1023 + 2 × 32768, 16) + 1 blocks", () => {
    // The numbers: 2113 blocks per sliding group before, 4161 after, with max_num_batched_tokens 32768.
    const swa = (inFlight: number) => Math.ceil((1024 - 1 + inFlight) / 16) + 1;
    expect(swa(vllmInFlightTokens("0.25.1", 32768, 1))).toBe(2113);
    expect(swa(vllmInFlightTokens("0.26.0", 32768, 1))).toBe(4161);
  });

  it("Gemma 3 27B at 131072 tokens: same blocks, lower concurrency from 0.26 (sliding groups reserve 2 × max_num_batched_tokens)", async () => {
    const model = (await resolveModel("google/gemma-3-27b-it", { offline: true })).model;
    const dep = (v: string) => makeDeployment(model, { engine: engine("vllm"), context: 131072, kvDtype: "bf16", options: { maxNumBatchedTokens: 8192, vllmVersion: v } });
    const budget = [60 * GIB];
    const a = vllmKvFromBudget(model, dep("0.25.1"), budget);
    const b = vllmKvFromBudget(model, dep("0.26.0"), budget);
    expect(b.numBlocks).toBe(a.numBlocks);
    // Full group: 131072 / 16 = 8192 blocks; each sliding (window 1024) group 577 blocks before, 1089 after.
    const groups = Math.round((a.numBlocks / a.maxConcurrency - 8192) / 577);
    expect(a.numBlocks / a.maxConcurrency).toBeCloseTo(8192 + groups * 577, 6);
    expect(b.numBlocks / b.maxConcurrency).toBeCloseTo(8192 + groups * 1089, 6);
    expect(b.maxConcurrency).toBeLessThan(a.maxConcurrency);
  });

  it("null block (vllm#47272): from 0.28.1 a request must fit num_blocks − 1, the printed figures do not change", async () => {
    const model = (await resolveModel("Qwen/Qwen3-8B", { offline: true })).model;
    const dep = (v: string) => makeDeployment(model, { engine: engine("vllm"), context: 16384, kvDtype: "bf16", options: { vllmVersion: v } });
    const page = 16 * 36 * 8 * 128 * 2 * 2; // 16 tokens × 36 layers × 8 KV heads × (K + V) 128 × bf16
    const budget = [1000 * page];
    const a = vllmKvFromBudget(model, dep("0.28.0"), budget);
    const b = vllmKvFromBudget(model, dep("0.28.1"), budget);
    expect(a.numBlocks).toBe(1000);
    expect(b.numBlocks).toBe(1000);
    expect(b.kvCapacityTokens).toBe(a.kvCapacityTokens);
    expect(b.maxConcurrency).toBe(a.maxConcurrency);
    expect(a.maxContext).toBe(16000);
    expect(b.maxContext).toBe(15984);
  });

  it("CUDA graph estimate: from 0.20 the start-up replay subtracts it (the given one, else the measured H100 median), not under --enforce-eager", async () => {
    const model = (await resolveModel("Qwen/Qwen3-8B", { offline: true })).model;
    const dep = (options: object) => makeDeployment(model, { engine: engine("vllm"), context: 16384, kvDtype: "bf16", options });
    const g = 0.52 * GIB;
    const base = vllmStartup(model, dep({}), 80 * GIB, 0.9, undefined, g).availableBytes[0];
    const net = vllmStartup(model, dep({ vllmVersion: "0.20.0" }), 80 * GIB, 0.9, undefined, g).availableBytes[0];
    expect(Math.abs(net - (base - g))).toBeLessThanOrEqual(1); // both floored to whole bytes
    expect(vllmStartup(model, dep({ vllmVersion: "0.20.0", enforceEager: true }), 80 * GIB, 0.9, undefined, g).availableBytes[0])
      .toBe(vllmStartup(model, dep({ vllmVersion: "0.19.0", enforceEager: true }), 80 * GIB, 0.9).availableBytes[0]);
    const measured = vllmStartup(model, dep({ vllmVersion: "0.20.0" }), 80 * GIB, 0.9);
    expect(measured.cudaGraphBytes).toBe(CUDA_GRAPH_ESTIMATE_GIB.tp1 * GIB);
    expect(measured.basis.join(" ")).toMatch(/CUDA graph estimate 0.74 GiB/);
  });

  it("the 0.21.0 LMCache log's budget follows from its printed estimate (0.52 GiB), which 0.21 subtracts", () => {
    const text = evidenceLog("vllm-issue-lmcache-3430-qwen3-8b-0.21.0-excerpt.log");
    expect(text).toMatch(/Estimated CUDA graph memory: 0\.52 GiB/);
  });
});

// Start-up components vLLM logs at DEBUG level: weights, the profile run's torch peak, the non-torch increase.
describe("vLLM start-up components from GPU memory", () => {
  const comps = cases.filter((c) => c.figures.some((f) => f.quantity === "profilePeak"));
  it("has the component records of llm-d-benchmark (4) and the llm-d-planner 0.19 campaign (59)", () => expect(comps.length).toBe(63));
  // The binding rank's peak: the last stage's (the first stages of a pipeline hold no sampler warm-up and do not bind).
  const peaks = rows.filter((r) => r.quantity === "profilePeak" && r.predicted !== null && (r.stage === undefined || r.stage === byCase(r.case).settings.pp! - 1));
  // Unexplained, reported: gpt-oss-20b's MXFP4 MoE path (+12%), the multimodal remainder of Gemma 3 and Kimi-VL (−3.5%).
  const unexplained = (id: string) => id.includes("gpt-oss-20b-h100-tp2");
  it("profile-run peak of the binding rank within 5% (gpt-oss MXFP4 reported apart)", () => {
    expect(peaks.length).toBeGreaterThanOrEqual(45);
    for (const r of peaks) if (!unexplained(r.case)) expect(Math.abs(r.errorPct!), r.case).toBeLessThan(5);
    const g = peaks.find((r) => unexplained(r.case))!;
    expect(g.errorPct!).toBeGreaterThan(5);
  });

  it("non-torch increase of the 0.19 runs within 8% (vLLM measures it; measured.ts's medians by TP/PP)", () => {
    const nt = rows.filter((r) => r.quantity === "nonTorch" && r.predicted !== null && r.release === "0.19.0");
    expect(nt.length).toBeGreaterThanOrEqual(40);
    for (const r of nt) expect(Math.abs(r.errorPct!), r.case).toBeLessThan(8);
  });
});
