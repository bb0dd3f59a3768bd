// llama.cpp profile rules, GGUF file-mix estimates, the log parser and the launch arguments, checked against
// verbatim llama-server logs (data/evidence/logs, sources in SOURCES-llamacpp.md).
import { describe, expect, it } from "vitest";
import { InputError, fit, makeDeployment, modelFromHfConfig, plan, weightBytes } from "../../lib/calc/index.js";
import { llamaCppContext } from "../../plugins/engine-llamacpp/index.js";
import { buildLlamaServerArgs, parseLlamaCppLog } from "../../plugins/engine-llamacpp/index.js";
import { resolveModel } from "../../loaders/models.js";
import { evidenceLog } from "../../loaders/evidence/index.js";
import { runCli } from "../helpers/cli.js";
import { tinyModel, writeGguf, u32 } from "../helpers/gguf-writer.js";
import { resolveGguf } from "../../loaders/gguf.js";
import { llamaCppComputeBuffer } from "../../plugins/engine-llamacpp/index.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engine } from "../../plugins/engines.js";

const MIB = 1024 * 1024;
const log = (f: string) => evidenceLog(f);
const DEEPSEEK_LOG = "llamacpp-server-deepseek-coder-1.3b-q4km-cpu-b7585.log";
const QWEN_LOG = "llamacpp-server-qwen2.5-3b-q4km-vulkan-win-b8179.log";

// The architectures as their logs print them (print_info: n_layer, n_embd, n_head(_kv), n_ff, n_vocab).
const deepseekCoder = modelFromHfConfig(
  { model_type: "llama", hidden_size: 2048, num_hidden_layers: 24, num_attention_heads: 16, num_key_value_heads: 16, intermediate_size: 5504, vocab_size: 32256, tie_word_embeddings: false },
  "deepseek-coder-1.3b",
);
const qwen25_3b = modelFromHfConfig(
  { model_type: "qwen2", hidden_size: 2048, num_hidden_layers: 36, num_attention_heads: 16, num_key_value_heads: 2, intermediate_size: 11008, vocab_size: 151936, tie_word_embeddings: true },
  "qwen2.5-3b",
);

describe("GGUF file mixes (llama-quant.cpp llama_tensor_get_type) vs real files", () => {
  it("deepseek-coder-1.3b Q4_K_M: the estimate equals the printed file size and mapped buffer (831.88 MiB)", () => {
    const f = parseLlamaCppLog(log(DEEPSEEK_LOG));
    expect(f.fileType).toBe("Q4_K - Medium");
    expect((weightBytes(deepseekCoder, "Q4_K_M").total / MIB).toFixed(2)).toBe("831.88");
    expect(f.weightsBytesByBuffer.CPU_Mapped / MIB).toBeCloseTo(831.88, 2);
  });

  it("qwen2.5-3b Q4_K_M (tied embeddings quantized as output, Q6_K): estimate matches the printed 1.79 GiB", () => {
    const text = log(QWEN_LOG);
    expect(text).toContain("file size   = 1.79 GiB");
    expect((weightBytes(qwen25_3b, "Q4_K_M").total / 1024 ** 3).toFixed(2)).toBe("1.79");
  });

  it("mixes order by size as llama-quantize's presets do, and pure types skip the output upgrade", () => {
    const b = (q: string) => weightBytes(deepseekCoder, q).total;
    expect(b("Q3_K_M")).toBeLessThan(b("Q4_K_S"));
    expect(b("Q4_K_S")).toBeLessThan(b("Q4_K_M"));
    expect(b("Q4_K_M")).toBeLessThan(b("Q5_K_M"));
    expect(b("Q5_K_M")).toBeLessThan(b("Q6_K"));
    expect(b("Q6_K")).toBeLessThan(b("Q8_0"));
    // Q4_0 mix puts output.weight in Q6_K (210 B/256) instead of Q4_0 (18 B/32).
    const out = 2048 * 32256;
    expect(b("Q4_0") - b("Q4_0_PURE")).toBe(out * (210 / 256) - out * (18 / 32));
  });
});

describe("llama.cpp context and cache rules", () => {
  const dep = (o: Partial<Parameters<typeof makeDeployment>[1]> = {}) => makeDeployment(qwen25_3b, { engine: engine("llama.cpp"), context: 1000, ...o });

  it("pads n_ctx to 256 and n_ctx_seq per sequence (llama-context.cpp)", () => {
    expect(llamaCppContext(qwen25_3b, dep({ context: 1000, seqs: 1 }))).toMatchObject({ nCtx: 1024, nCtxSeq: 1024, nStream: 1 });
    expect(llamaCppContext(qwen25_3b, dep({ context: 700, seqs: 3 }))).toMatchObject({ nCtx: 2304, nCtxSeq: 768, nStream: 3 });
    expect(llamaCppContext(qwen25_3b, dep({ context: 100, seqs: 1 }))).toMatchObject({ nCtx: 256, nBatch: 256, nUbatch: 256 });
  });

  it("--kv-dtype q8_0 costs 34 bytes per 32 values per cell", () => {
    const f16 = plan(qwen25_3b, dep({ context: 4096, kvDtype: "f16" }), engine("llama.cpp")).memory.kvCacheBytes;
    const q8 = plan(qwen25_3b, dep({ context: 4096, kvDtype: "q8_0" }), engine("llama.cpp")).memory.kvCacheBytes;
    expect(f16).toBe(36 * 4096 * 256 * 2 * 2);
    expect(q8).toBe((f16 / 2 / 32) * 34);
  });

  it("rejects cache types llama.cpp rejects, with one line", () => {
    expect(() => plan(qwen25_3b, dep({ kvDtype: "fp8" }), engine("llama.cpp"))).toThrow(InputError);
    expect(() => plan(qwen25_3b, dep({ kvDtype: "q8_0", options: { flashAttention: false } }), engine("llama.cpp"))).toThrow(/requires flash attention/);
    const odd = modelFromHfConfig({ model_type: "llama", hidden_size: 960, num_hidden_layers: 2, num_attention_heads: 12, intermediate_size: 64, vocab_size: 100 }, "hd80");
    expect(() => plan(odd, makeDeployment(odd, { engine: engine("llama.cpp"), context: 512, kvDtype: "q4_0" }), engine("llama.cpp"))).toThrow(/head size divisible by 32/);
  });

  it("Mistral's sliding window is not used by llama.cpp's llama architecture: full cache and a warning", () => {
    const mistral = modelFromHfConfig({ model_type: "mistral", hidden_size: 4096, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, intermediate_size: 14336, vocab_size: 32000, sliding_window: 4096 }, "mistral-7b-v0.1");
    const p = plan(mistral, makeDeployment(mistral, { engine: engine("llama.cpp"), context: 32768 }), engine("llama.cpp"));
    expect(p.memory.kvCacheBytes).toBe(32 * 32768 * 1024 * 2 * 2);
    expect(p.warnings.join(" ")).toMatch(/without sliding-window caching/);
  });

  it("the catalog's Qwen3.5-35B-A3B config plans the KV + recurrent state its llama-server log printed (640.00 + 251.25 MiB)", async () => {
    const { model } = await resolveModel("Qwen/Qwen3.5-35B-A3B", { offline: true });
    const f = parseLlamaCppLog(log("llamacpp-server-qwen3.5-35b-a3b-q8-cuda-4xa6000.log"));
    const p = plan(model, makeDeployment(model, { engine: engine("llama.cpp"), context: f.nCtx!, seqs: f.nSeqMax!, options: { kvUnified: f.kvUnified } }), engine("llama.cpp"));
    expect(p.memory.kvCacheBytes).toBe(640 * MIB + 251.25 * MIB);
    expect(f.kvCacheBytes).toBe(p.memory.kvCacheBytes);
  });

  it("compute buffer estimate: Qwen2.5-3B's Vulkan device buffer exactly, DeepSeek-Coder's CPU buffer (older b7585) within 6%", () => {
    // Qwen2.5-3B, Vulkan (b8179), 35/37 layers offloaded: the device buffer peaks at the output, result_norm
    // [n_embd, n_ubatch] + logits [n_vocab, n_ubatch] f32 = 300.75 MiB; the token-embedding inputs stay in Vulkan_Host.
    const q = parseLlamaCppLog(log(QWEN_LOG));
    const pq = plan(qwen25_3b, makeDeployment(qwen25_3b, { engine: engine("llama.cpp"), context: 2048, seqs: 4, options: { kvUnified: true } }), engine("llama.cpp"));
    const gpuCompute = pq.buffers![0].computeBytes;
    expect(gpuCompute).toBe(4 * 512 * (151936 + 2048));
    expect((gpuCompute / MIB).toFixed(2)).toBe((q.computeBytesByBuffer.Vulkan1 / MIB).toFixed(2));
    // The plan's activations are every backend's compute buffer: the GPU's and the host's token inputs.
    expect(pq.memory.activationBytes).toBe(gpuCompute + pq.buffers![1].computeBytes);
    expect(pq.basis.join(" ")).toMatch(/estimate: llama.cpp device compute buffer/);
    // DeepSeek-Coder-1.3B, CPU only (b7585): device estimate + inp_tokens/inp_embd = 71.00 MiB vs 74.76 printed.
    // The rule is exact against node-llama-cpp's newer llama.cpp (llamacpp-real.test.ts); b7585's graph holds 3.76 MiB more.
    const d = parseLlamaCppLog(log(DEEPSEEK_LOG));
    const dep = makeDeployment(deepseekCoder, { engine: engine("llama.cpp"), context: 16384, seqs: 4, options: { kvUnified: true } });
    const cb = llamaCppComputeBuffer(deepseekCoder, dep);
    expect(Math.abs(cb.device + cb.cpuInputs - d.computeBytes) / d.computeBytes).toBeLessThan(0.06);
    for (const [model, file, ctx, seqs] of [[deepseekCoder, DEEPSEEK_LOG, 16384, 4], [qwen25_3b, QWEN_LOG, 2048, 4]] as const) {
      const f = parseLlamaCppLog(log(file));
      const p = plan(model, makeDeployment(model, { engine: engine("llama.cpp"), context: ctx, seqs, options: { kvUnified: true } }), engine("llama.cpp"));
      // The output buffer is exact: n_vocab × n_seq_max f32.
      expect((p.memory.overheadBytes / MIB).toFixed(2)).toBe((f.outputBytes! / MIB).toFixed(2));
    }
  });
});

describe("hwledger fit for llama.cpp", () => {
  it("finds the largest 256-cell context whose caches fit, counting the recurrent state at its fixed size", async () => {
    const { model } = await resolveModel("Qwen/Qwen3.5-35B-A3B", { offline: true });
    const dep = makeDeployment(model, { engine: engine("llama.cpp"), context: 32768, seqs: 4, weights: "Q4_K_M" });
    const budget = 4 * 1024 ** 3;
    const r = fit(model, dep, engine(dep.engine), { kvBudgetBytes: budget });
    const kv = (context: number, kvUnified = false) => plan(model, { ...dep, context, options: { kvUnified } }, engine("llama.cpp"), { layers: false }).memory.kvCacheBytes;
    expect(r.maxContext % 256).toBe(0);
    expect(kv(r.maxContext)).toBeLessThanOrEqual(budget);
    expect(kv(r.maxContext + 256)).toBeGreaterThan(budget);
    expect(kv(r.kvCapacityTokens, true)).toBeLessThanOrEqual(budget);
    expect(kv(r.kvCapacityTokens + 256, true)).toBeGreaterThan(budget);
    expect(r.maxConcurrency).toBe(r.kvCapacityTokens / 32768);
  });
});

describe("parseLlamaCppLog", () => {
  it("reads buffers, context, caches and timings from a CPU llama-server log", () => {
    const f = parseLlamaCppLog(log(DEEPSEEK_LOG));
    expect(f).toMatchObject({ arch: "llama", nLayer: 24, nCtx: 16384, nSeqMax: 4, nUbatch: 512, kvUnified: true, nVocab: 32256 });
    expect(f.weightsBytesByBuffer).toEqual({ CPU_Mapped: Math.round(831.88 * MIB), CPU_REPACK: Math.round(479.25 * MIB) });
    expect(f.kvCaches).toHaveLength(1);
    expect(f.kvCaches[0]).toMatchObject({ cells: 16384, layers: 24, kType: "f16", vType: "f16" });
    expect(f.kvCacheBytes).toBe(3072 * MIB);
    expect(f.computeBytes).toBe(Math.round(74.76 * MIB));
    expect(f.timings[0]).toMatchObject({ promptTokens: 65, promptTokensPerSecond: 57.23, decodeTokens: 32, decodeTokensPerSecond: 20.04 });
    expect(f.promptTokensPerSecond).toBe(f.timings[f.timings.length - 1].promptTokensPerSecond);
    expect(f.decodeTokensPerSecond).toBe(15.8);
  });

  it("reads the iSWA pair and a recurrent cache", () => {
    const g = parseLlamaCppLog(log("llamacpp-server-gemma4-e4b-q8-metal-m4-swa-b8680.log"));
    expect(g.kvCaches.map((k) => [k.cells, k.layers])).toEqual([[65536, 4], [1024, 20]]);
    expect(g.computeBytesByBuffer).toEqual({ MTL0: Math.round(517.5 * MIB), CPU: Math.round(140.02 * MIB) }); // not the CLIP alloc_compute_meta ones
    const q = parseLlamaCppLog(log("llamacpp-server-qwen3.5-35b-a3b-q8-cuda-4xa6000.log"));
    expect(q.recurrent[0]).toMatchObject({ cells: 4, layers: 40, rType: "f32", sType: "f32" });
    expect(q.kvCacheBytes).toBe(640 * MIB + Math.round(251.25 * MIB));
    expect(q.weightsBytesByBuffer).toMatchObject({ CUDA2: Math.round(17931.7 * MIB), CUDA3: Math.round(16736.08 * MIB) });
  });
});

describe("buildLlamaServerArgs", () => {
  it("maps a plan (--context per sequence) to -c N×S -np S, not unified", () => {
    expect(buildLlamaServerArgs({ model: "/m.gguf", context: 8192, seqs: 4, kvDtypeK: "q8_0", kvDtypeV: "q8_0", flashAttention: true, gpuLayers: 99, port: 8080 })).toEqual([
      "-m", "/m.gguf", "-c", "32768", "-np", "4", "--no-kv-unified", "-ctk", "q8_0", "-ctv", "q8_0", "-fa", "on", "-ngl", "99", "--port", "8080",
    ]);
    expect(buildLlamaServerArgs({ hfRepo: "org/repo:Q4_K_M", context: 4096, seqs: 2, kvUnified: true, swaFull: true })).toEqual(["-hf", "org/repo:Q4_K_M", "-c", "4096", "-np", "2", "--kv-unified", "--swa-full"]);
  });
});

describe("bad GGUF input", () => {
  it("a file that is not a GGUF, or a missing one, is exit 2 with one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "hwledger-badgguf-"));
    const bad = join(dir, "bad.gguf");
    writeFileSync(bad, "not a gguf");
    for (const f of [bad, join(dir, "missing.gguf")]) {
      const r = runCli(["plan", "--gguf", f, "--engine", "llama.cpp", "--context", "100"]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(f);
    }
  });
});

describe("split GGUF (llama-gguf-split naming)", () => {
  it("reads every shard: the plan equals the single-file plan", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hwledger-split-"));
    const { metadata, tensors } = tinyModel({ arch: "llama", nLayer: 2, nEmbd: 128, nHead: 4, nHeadKv: 2 });
    writeGguf(join(dir, "one.gguf"), metadata, tensors);
    const half = Math.floor(tensors.length / 2);
    writeGguf(join(dir, "m-00001-of-00002.gguf"), { ...metadata, "split.no": u32(0), "split.count": u32(2) }, tensors.slice(0, half));
    writeGguf(join(dir, "m-00002-of-00002.gguf"), { "general.architecture": metadata["general.architecture"], "split.no": u32(1), "split.count": u32(2) }, tensors.slice(half));
    const one = (await resolveGguf(join(dir, "one.gguf"))).model;
    const split = (await resolveGguf(join(dir, "m-00001-of-00002.gguf"))).model;
    const d = (m: typeof one) => plan(m, makeDeployment(m, { engine: engine("llama.cpp"), context: 4096 }), engine("llama.cpp")).memory;
    expect(d(split)).toEqual(d(one));
    expect(Object.keys(split.gguf!.tensorBytes)).toHaveLength(tensors.length);
  });
});
