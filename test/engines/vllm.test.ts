// vLLM profile rules (kv_cache_interface.py, kv_cache_utils.py, gpu_worker.py) on catalog models, the
// `hwledger fit` CLI for vLLM, and the engine-vllm plugin (serve arguments, log and /metrics parsers on verbatim
// real outputs: vLLM cannot run on this machine, so its printed output is the fixture).
import { beforeAll, describe, expect, it } from "vitest";
import { fit, makeDeployment, modelFromHfConfig, plan } from "../../lib/calc/index.js";
import type { ModelSpec } from "../../lib/calc/index.js";
import { ppStageLayers, ropeCacheBytes, vllmKvFromBudget, vllmSchedulerDefaults, vllmStartup, vllmWeightsPerRank } from "../../plugins/engine-vllm/index.js";
import { buildVllmServeArgs, manifest, parseVllmLog, parseVllmMetrics } from "../../plugins/engine-vllm/index.js";
import { validateManifest } from "../../plugins/manifest.js";
import { EVIDENCE_DIR, evidenceLog } from "../../loaders/evidence/index.js";
import { resolveModel } from "../../loaders/models.js";
import { runCli, runCliJson } from "../helpers/cli.js";
import { engine } from "../../plugins/engines.js";

const GIB = 1024 ** 3;
const fixture = (f: string) => evidenceLog(f);
const load = async (ref: string) => (await resolveModel(ref, { offline: true })).model;

let qwen7: ModelSpec;
let gptOss: ModelSpec;
let dsLite: ModelSpec;
let mamba: ModelSpec;
beforeAll(async () => {
  qwen7 = await load("Qwen/Qwen2.5-7B-Instruct");
  gptOss = await load("openai/gpt-oss-120b");
  dsLite = await load(EVIDENCE_DIR + "configs/deepseek-v2-lite-chat.json");
  mamba = await load("state-spaces/mamba-2.8b-hf");
});

const dep = (m: ModelSpec, o: Record<string, unknown> = {}) =>
  makeDeployment(m, { engine: engine("vllm"), context: 16384, kvDtype: "bf16", ...o } as Parameters<typeof makeDeployment>[1]);

describe("vLLM KV paging (kv_cache_utils.py get_kv_cache_configs)", () => {
  it("full attention: num_blocks = budget // (16 × per-token bytes × layers), tokens = blocks × 16", () => {
    // Qwen2.5-7B, TP2: 2 KV heads × (128 + 128) × 2 B = 1024 B per token per layer, 28 layers → 458,752 B per block.
    const d = dep(qwen7, { tp: 2 });
    const perBlock = 16 * 1024 * 28;
    expect(vllmKvFromBudget(qwen7, d, [28137 * perBlock]).kvCapacityTokens).toBe(450192);
    expect(vllmKvFromBudget(qwen7, d, [28137 * perBlock - 1]).kvCapacityTokens).toBe(450176);
    // Maximum concurrency = num_blocks / cdiv(max_model_len, 16) = 28137 / 1024.
    expect(vllmKvFromBudget(qwen7, d, [28137 * perBlock]).maxConcurrency).toBeCloseTo(27.4775, 4);
  });

  it("fp8 KV stores one byte per element: twice the tokens of bf16", () => {
    const budget = [10 * GIB];
    const bf = vllmKvFromBudget(qwen7, dep(qwen7), budget).kvCapacityTokens;
    const f8 = vllmKvFromBudget(qwen7, dep(qwen7, { kvDtype: "fp8" }), budget).kvCapacityTokens;
    expect(Math.abs(f8 - 2 * bf)).toBeLessThanOrEqual(16);
  });

  it("TP beyond the KV heads replicates them: tp 16 with 8 KV heads caches one head per rank like tp 8", async () => {
    // Llama 3.1 8B: 32 heads, 8 KV heads; TP 16 splits the heads and replicates each KV head twice (QKVParallelLinear).
    // (Qwen2.5-7B's 28 heads cannot go to TP 8: vLLM refuses it, and so does makeDeployment.)
    const llama = await load("meta-llama/Llama-3.1-8B-Instruct");
    const budget = [10 * GIB];
    const t8 = vllmKvFromBudget(llama, dep(llama, { tp: 8 }), budget).kvCapacityTokens;
    const t16 = vllmKvFromBudget(llama, dep(llama, { tp: 16 }), budget).kvCapacityTokens;
    expect(t16).toBe(t8);
    expect(vllmKvFromBudget(llama, dep(llama, { tp: 4 }), budget).kvCapacityTokens).toBeLessThan(t8);
    expect(() => dep(qwen7, { tp: 8 })).toThrow(/Total number of attention heads \(28\) must be divisible by tensor parallel size \(8\)/);
  });

  it("sliding + full (gpt-oss): two groups of 18 layers, tokens = num_blocks // 2 × 16, sliding window bounds concurrency", () => {
    // 8 KV heads / TP4 = 2 heads × (64 + 64) × 2 B = 512 B per token per layer; page 8192 B; group_size 18.
    const d = dep(gptOss, { tp: 4, options: { maxNumBatchedTokens: 2048 } });
    const numBlocks = 330018;
    const r = vllmKvFromBudget(gptOss, d, [numBlocks * 8192 * 18]);
    expect(r.numBlocks).toBe(numBlocks);
    expect(r.kvCapacityTokens).toBe(Math.floor(numBlocks / 2) * 16);
    // Per request: full cdiv(16384, 16) = 1024 blocks + sliding cdiv(min(128 − 1 + 2048, 16384), 16) + 1 = 137.
    expect(r.maxConcurrency).toBeCloseTo(numBlocks / (1024 + 137), 6);
  });

  it("MLA caches the 512 + 64 latent once per rank; pipeline stages split 27 layers 14 + 13 (get_pp_indices)", () => {
    expect(ppStageLayers(27, 2).map((s) => s.length)).toEqual([14, 13]);
    // The remainder goes to the stages before the last, from the second-to-last backwards.
    expect(ppStageLayers(10, 4).map((s) => s.length)).toEqual([2, 3, 3, 2]);
    const d = dep(dsLite, { tp: 2, pp: 2, context: 1024 });
    // 576 × 2 B × 16 = 18,432 B per block per layer, whatever the TP size.
    const r = vllmKvFromBudget(dsLite, d, [50487 * 18432 * 14, 60000 * 18432 * 13]);
    expect(r.numBlocks).toBe(50487);
    expect(r.kvCapacityTokens).toBe(807792);
    expect(vllmKvFromBudget(dsLite, dep(dsLite, { tp: 1, pp: 2, context: 1024 }), [50487 * 18432 * 14, 60000 * 18432 * 13]).numBlocks).toBe(50487);
  });

  it("Mamba-only models hold one sequence per block (block size = max_model_len)", () => {
    const d = dep(mamba, { context: 4096 });
    const r1 = vllmKvFromBudget(mamba, d, [1 * GIB]);
    expect(r1.kvCapacityTokens % 4096).toBe(0);
    expect(r1.maxConcurrency).toBe(r1.numBlocks);
    expect(r1.kvCapacityTokens).toBe(r1.numBlocks * 4096);
  });

  it("rejects KV dtypes vLLM does not have and split K/V dtypes, with one clear line", () => {
    expect(() => fit(qwen7, dep(qwen7, { kvDtype: "q8_0" }), engine("vllm"), { kvBudgetBytes: GIB })).toThrow(/vLLM has no KV cache dtype "q8_0"/);
    expect(() => fit(qwen7, dep(qwen7, { kvDtype: "fp8,bf16" }), engine("vllm"), { kvBudgetBytes: GIB })).toThrow(/one --kv-cache-dtype/);
  });
});

describe("vLLM start-up accounting (gpu_worker.py determine_available_memory)", () => {
  it("scheduler defaults follow EngineArgs.get_batch_defaults for `vllm serve`", () => {
    expect(vllmSchedulerDefaults({ memoryBytes: 79.19 * GIB })).toEqual({ maxNumBatchedTokens: 8192, maxNumSeqs: 1024 });
    expect(vllmSchedulerDefaults({ memoryBytes: 79.25 * GIB, name: "NVIDIA A100-SXM4-80GB" })).toEqual({ maxNumBatchedTokens: 2048, maxNumSeqs: 256 });
    expect(vllmSchedulerDefaults({ memoryBytes: 23.6 * GIB })).toEqual({ maxNumBatchedTokens: 2048, maxNumSeqs: 256 });
    // vLLM 0.28.0 raised the large-GPU budget to 16384 (vllm#51726); smaller GPUs and the A100 keep 2048.
    expect(vllmSchedulerDefaults({ memoryBytes: 79.19 * GIB }, "0.27.1").maxNumBatchedTokens).toBe(8192);
    expect(vllmSchedulerDefaults({ memoryBytes: 79.19 * GIB }, "0.28.0").maxNumBatchedTokens).toBe(16384);
    expect(vllmSchedulerDefaults({ memoryBytes: 79.25 * GIB, name: "NVIDIA A100-SXM4-80GB" }, "0.28.0").maxNumBatchedTokens).toBe(2048);
  });

  it("available = total × utilization − weights − profile peak − non-torch, and a bigger batch budget costs KV", () => {
    const d = dep(qwen7, { options: { maxNumBatchedTokens: 2048, maxNumSeqs: 256 } });
    const s = vllmStartup(qwen7, d, 79.25 * GIB, 0.5);
    expect(s.availableBytes[0]).toBe(Math.floor(0.5 * 79.25 * GIB - s.weightsBytes[0] - s.peakBytes[0] - s.nonTorchBytes));
    const big = vllmStartup(qwen7, dep(qwen7, { options: { maxNumBatchedTokens: 16384, maxNumSeqs: 1024 } }), 79.25 * GIB, 0.5);
    expect(big.peakBytes[0]).toBeGreaterThan(s.peakBytes[0]);
  });

  it("weights per rank: TP splits the layers, the vocabulary is padded to 64 rows", () => {
    // Every rank keeps the whole RoPE table (32768 positions × 128 × 2 bytes for Qwen2.5-7B); the rest is sharded.
    const rope = ropeCacheBytes(qwen7, 2).bytes;
    expect(rope).toBe(32768 * 128 * 2);
    const w1 = vllmWeightsPerRank(qwen7, dep(qwen7))[0];
    const w2 = vllmWeightsPerRank(qwen7, dep(qwen7, { tp: 2 }))[0];
    expect(w2 - rope).toBeGreaterThan((w1 - rope) / 2); // norms and biases of the replicated parts
    expect(w2 - rope).toBeLessThan((w1 - rope) / 2 + 2 * 1024 ** 2);
    // "Model loading took 14.2488 GiB" (TP1) and "7.1217 GiB" (TP2) for Qwen2-7B, same architecture.
    expect(Math.abs(w1 / GIB - 14.2488)).toBeLessThan(0.1);
    expect(Math.abs(w2 / GIB - 7.1217)).toBeLessThan(0.05);
    const odd = modelFromHfConfig({ model_type: "llama", hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, vocab_size: 1000 });
    const adj = plan(odd, makeDeployment(odd, { engine: engine("vllm"), context: 128 }), engine("vllm")).basis.join(" ");
    expect(adj).toContain("1000 → 1024 rows");
  });

  it("MXFP4 experts are allocated padded (Marlin: intermediate to 128, hidden to 256)", () => {
    const triton = vllmWeightsPerRank(gptOss, dep(gptOss, { tp: 4 }))[0];
    const marlin = vllmWeightsPerRank(gptOss, dep(gptOss, { tp: 4, options: { mxfp4Backend: "marlin" } }))[0];
    expect(marlin).toBeGreaterThan(triton);
    // "Model loading took 17.2217 GiB" per rank on 4 × A100 (Marlin, no native FP4).
    expect(Math.abs(marlin / GIB - 17.2217)).toBeLessThan(0.2);
  });
});

describe("hwledger fit --engine vllm (CLI)", () => {
  it("--kv-budget-gib reproduces the printed tokens and concurrency", () => {
    const r = runCliJson(["fit", "--model", "Qwen/Qwen2.5-7B-Instruct", "--engine", "vllm", "--tp", "2", "--context", "16384", "--kv-budget-gib", "12.02"]);
    expect(r.kvCapacityTokens).toBe(450128);
    expect(r.maxConcurrency).toBeCloseTo(450128 / 16 / 1024, 6);
    expect(r.maxContext).toBe(32768);
  });

  it("--gpu-memory-gib runs the whole start-up accounting of the log's release (within 3% of the Qwen2-7B TP2 0.10.1.1 log)", () => {
    const r = runCliJson([
      "fit", "--model", "Qwen/Qwen2.5-7B-Instruct", "--engine", "vllm", "--tp", "2", "--context", "16384", "--vllm-version", "0.10.1.1",
      "--gpu-memory-gib", "79.25", "--gpu-memory-utilization", "0.5", "--max-num-batched-tokens", "2048", "--max-num-seqs", "256", "--sampler", "flashinfer",
    ]);
    expect(Math.abs(r.kvCapacityTokens / 1192160 - 1)).toBeLessThan(0.03);
    expect(r.availableKvBytes).toBeGreaterThan(31 * GIB);
  });

  it("the sampler warmed up at start-up follows the release (topk_topp_sampler.py)", () => {
    const base = ["fit", "--model", "Qwen/Qwen2.5-7B-Instruct", "--engine", "vllm", "--context", "16384", "--gpu-memory-gib", "79.19"];
    const gap = (version: string) => (runCliJson([...base, "--vllm-version", version, "--sampler", "flashinfer"]).availableKvBytes - runCliJson([...base, "--vllm-version", version]).availableKvBytes) / GIB;
    // 0.11.1–0.16: the PyTorch sort, 1024 dummy requests × 152,064 vocab × (38 − 10) bytes ≈ 4.1 GiB more than FlashInfer.
    expect(gap("0.13.0")).toBeCloseTo((1024 * 152064 * 28) / GIB, 1);
    // 0.17–0.20: the Triton kernel holds the same 14 bytes as FlashInfer plus its 132-row fp32 buffer.
    expect(gap("0.19.0")).toBeCloseTo((4 * 132 * 152064) / GIB, 3);
    // 0.21+: FlashInfer by default and the native path warmed up too: the flag changes nothing.
    expect(gap("0.21.0")).toBe(0);
    expect(runCli([...base, "--sampler", "cuda"]).code).toBe(2);
    expect(runCli([...base, "--tp", "3"]).stderr).toMatch(/Total number of attention heads \(28\) must be divisible by tensor parallel size \(3\)/);
  });

  it("--vllm-version 0.21+ prints tokens as concurrency × context; a malformed release is exit 2", () => {
    const args = ["fit", "--model", "google/gemma-3-27b-it", "--engine", "vllm", "--context", "32768", "--kv-budget-gib", "100", "--json"];
    const before = runCliJson(args);
    const after = runCliJson([...args, "--vllm-version", "0.25.1"]);
    expect(after.maxConcurrency).toBe(before.maxConcurrency);
    expect(after.kvCapacityTokens).toBe(Math.trunc(before.maxConcurrency * 32768));
    const bad = runCli([...args, "--vllm-version", "latest"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/MAJOR\.MINOR/);
  });

  it("bad vLLM input is exit 2 with one line", () => {
    const r = runCli(["fit", "--model", "Qwen/Qwen2.5-7B-Instruct", "--engine", "vllm", "--kv-dtype", "q4_0", "--kv-budget-gib", "4"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    const tiny = runCli(["fit", "--model", "Qwen/Qwen2.5-7B-Instruct", "--engine", "vllm", "--gpu-memory-gib", "8", "--gpu-memory-utilization", "0.5"]);
    expect(tiny.code).toBe(2);
    expect(tiny.stderr).toMatch(/no memory for the KV cache/);
  });
});

describe("engine-vllm plugin", () => {
  it("has a valid engine manifest", () => {
    expect(validateManifest("engine-vllm", manifest).kind).toBe("engine");
  });

  it("builds the `vllm serve` argument array", () => {
    const d = makeDeployment(qwen7, { engine: engine("vllm"), context: 16384, tp: 2, kvDtype: "fp8", options: { maxNumSeqs: 64, enforceEager: true } });
    expect(buildVllmServeArgs("Qwen/Qwen2.5-7B-Instruct", d, { port: 8000, gpuMemoryUtilization: 0.9 })).toEqual([
      "serve", "Qwen/Qwen2.5-7B-Instruct", "--max-model-len", "16384", "--tensor-parallel-size", "2", "--pipeline-parallel-size", "1",
      "--kv-cache-dtype", "fp8", "--gpu-memory-utilization", "0.9", "--max-num-seqs", "64", "--enforce-eager", "--dtype", "bfloat16", "--port", "8000",
    ]);
    expect(() => buildVllmServeArgs("m", makeDeployment(qwen7, { engine: engine("vllm"), context: 8, kvDtype: "q8_0" }))).toThrow(/no KV cache dtype/);
  });

  it("parses a TP2 start-up log (0.10.1.1, worker prefixes, progress bar glued to a line)", () => {
    const f = parseVllmLog(fixture("vllm-startup-qwen2-7b-tp2-0.10.1.1.log"));
    expect(f).toMatchObject({ version: "0.10.1.1", model: "Qwen2-7B-Instruct", tensorParallelSize: 2, maxModelLen: 16384, gpuMemoryUtilization: 0.25, kvCacheDtype: "auto", sampler: "flashinfer" });
    expect(f.availableKvBytesPerWorker).toEqual([Math.round(12.02 * GIB), Math.round(12.02 * GIB)]);
    expect(f.kvCapacityTokens).toBe(450192);
    expect(f.maxConcurrency).toBe(27.48);
    expect(f.cudaGraphBytes).toBe(Math.round(0.65 * GIB));
    expect(f.weightsBytes).toBe(Math.round(7.1217 * GIB));
  });

  it("parses ANSI-coloured Ray logs and v0.25 wording", () => {
    const oss = parseVllmLog(fixture("vllm-startup-gpt-oss-120b-ray-4node-ansi-0.10.1.1.log"));
    expect(oss).toMatchObject({ quantization: "mxfp4", tensorParallelSize: 4, kvCapacityTokens: 2640144, maxConcurrency: 284.25 });
    const g4 = parseVllmLog(fixture("vllm-startup-gemma4-26b-a4b-awq-0.25.1.log"));
    expect(g4).toMatchObject({ version: "0.25.1", maxNumSeqs: 32, weightsBytes: Math.round(16.63 * GIB), estimatedCudaGraphBytes: Math.round(0.14 * GIB), cudaGraphBytes: Math.round(0.38 * GIB) });
    const eager = parseVllmLog(fixture("vllm-startup-llama3.2-1b-enforce-eager-0.9.0.1.log"));
    expect(eager).toMatchObject({ version: "0.9.0.1", enforceEager: true, sampler: "native", kvCapacityTokens: 1028832 });
    expect(eager.availableKvBytes).toBeUndefined();
    expect(eager.quantization).toBeUndefined();
  });

  it("parses /metrics Prometheus text (V1 idle server and an early V1 excerpt)", () => {
    const idle = parseVllmMetrics(fixture("vllm-metrics-v1-idle-qwen1.5-0.5b-2025-11.txt"));
    expect(idle.kvCacheUsage).toBe(0);
    expect(idle.requestsRunning).toBe(0);
    expect(idle.samples.some((s) => s.name === "vllm:time_to_first_token_seconds_bucket" && s.labels.le === "+Inf")).toBe(true);
    const glm = parseVllmMetrics(fixture("vllm-metrics-excerpt-glm4.5-0.10.0.txt"));
    expect(glm.kvCacheUsage).toBeCloseTo(9.75e-6, 8);
    const early = parseVllmMetrics(fixture("vllm-metrics-excerpt-qwen2.5-coder-32b-v1-2025-03.txt"));
    expect(early.samples.find((s) => s.name === "vllm:gpu_cache_usage_perc")?.labels.model_name).toBeTruthy();
  });
});
