// Ollama as an engine: defaults per release, its own estimate and placement (a port of llm/memory.go), the Modelfile
// export, and verbatim Ollama logs (data/evidence/logs/ollama-*.log, SOURCES-ollama.md) parsed and compared with
// hwledger's prediction. Ollama cannot run here (no GPU, no binary): the logs are real outputs from public issues.
// Every log is held out: no rule or constant was derived from them; the errors below are reported as they are.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fit, makeDeployment, modelFromHfConfig, plan } from "../../lib/calc/index.js";
import { catalogConfig, findCatalogEntry } from "../../loaders/catalog.js";
import { estimateGpuLayers, ollamaActuals, ollamaDefaultFlashAttention, ollamaDefaultNumCtx, ollamaDefaultParallel, ollamaGraphSize, ollamaKvPerLayer, ollamaMinimumMemory, ollamaOutputBytes, parseOllamaLog } from "../../plugins/engine-ollama/index.js";
import { engine, parseEngine } from "../../plugins/engines.js";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const log = (f: string) => readFileSync(`data/evidence/logs/${f}`, "utf8");
const cat = (id: string) => {
  const e = findCatalogEntry(id)!;
  return modelFromHfConfig(catalogConfig(e), id);
};
// Printed by format.HumanBytes2 with one decimal: a printed X GiB is X ± 0.05 GiB.
const halfUnit = (printed: number) => (printed >= GiB ? 0.05 * GiB : printed >= MiB ? 0.05 * MiB : 0.5);

// The log names no model; layers.model 29 (28 blocks + output), memory.weights.nonrepeating 308.2 MiB (a 128256 ×
// 3072 Q6_K token_embd) and KV 896 MiB at --ctx-size 8192 identify Llama 3.2 3B, whose geometry (model card: 28
// layers, 24 heads, 8 KV heads × 128, hidden 3072, FFN 8192, vocab 128256, tied) is typed here.
const llama32_3b = modelFromHfConfig({ model_type: "llama", hidden_size: 3072, num_hidden_layers: 28, num_attention_heads: 24, num_key_value_heads: 8, head_dim: 128, intermediate_size: 8192, vocab_size: 128256, max_position_embeddings: 131072, tie_word_embeddings: true, torch_dtype: "bfloat16" }, "meta-llama/Llama-3.2-3B-Instruct");

interface LogCase {
  file: string;
  model: ReturnType<typeof cat>;
  /** num_ctx per slot and parallel, from the runner's --ctx-size / --parallel (or the release default). */
  numCtx: number;
  parallel: number;
  note: string;
}
const CASES: LogCase[] = [
  { file: "ollama-serve-log-offload-to-cuda-ollama-8098.log", model: llama32_3b, numCtx: 2048, parallel: 4, note: "--ctx-size 8192 --parallel 4: num_ctx 2048 × 4 slots" },
  // 80 blocks, KV 8 heads × 128: Llama 3.x 70B geometry (the source names no model; weights 87.3 GiB are not Llama 3.3 70B Q8_0's).
  { file: "ollama-serve-log-offload-4gpu-split-ollama-9181.log", model: cat("llama-3.3-70b-instruct"), numCtx: 64000, parallel: 1, note: "--ctx-size 64000 --parallel 1, stand-in geometry" },
  { file: "ollama-serve-log-offload-1gpu-ollama-12000.log", model: cat("gemma-3-12b-it"), numCtx: 8192, parallel: 1, note: "gemma3 12B (48 blocks, vision projector), --ctx-size 8192" },
  // DeepSeek-R1 (61 blocks), no runner line: num_ctx 2048 (the default before 0.6.7), parallel 1 (a model that does not fit).
  { file: "ollama-serve-log-partial-offload-ollama-8447.log", model: cat("deepseek-r1"), numCtx: 2048, parallel: 1, note: "num_ctx from the release default" },
];

describe("Ollama defaults per release (envconfig/config.go, server/sched.go)", () => {
  it("num_ctx 2048 → 4096 at 0.6.7 → VRAM tiers at 0.15.5; parallel auto 4, 2 from 0.6.7, 1 from 0.10.0", () => {
    expect(ollamaDefaultNumCtx("0.5.4")).toBe(2048);
    expect(ollamaDefaultNumCtx("0.6.7")).toBe(4096);
    expect(ollamaDefaultNumCtx("0.15.5", 80 * GiB)).toBe(262144);
    expect(ollamaDefaultNumCtx("0.15.5", 24 * GiB)).toBe(32768);
    expect(ollamaDefaultNumCtx("0.15.5", 16 * GiB)).toBe(4096);
    expect(ollamaDefaultParallel("0.5.4").tryFirst).toBe(4);
    expect(ollamaDefaultParallel("0.7.0").tryFirst).toBe(2);
    expect(ollamaDefaultParallel("0.10.0").tryFirst).toBe(1);
    expect(ollamaDefaultFlashAttention("0.11.6")).toBe(false);
    expect(ollamaMinimumMemory("cuda")).toBe(457 * MiB);
  });

  it("8098's runner line is the old default: num_ctx 2048 × 4 parallel slots", () => {
    const f = parseOllamaLog(log(CASES[0].file));
    expect(f.runner).toMatchObject({ ctxSize: ollamaDefaultNumCtx("0.5.1") * ollamaDefaultParallel("0.5.1").tryFirst, parallel: 4, batchSize: 512, gpuLayers: 29 });
  });
});

describe("Ollama logs parsed (verbatim, public issues)", () => {
  it("offload lines of both formats, runner commands, system memory, runner buffers", () => {
    const split = parseOllamaLog(log("ollama-serve-log-offload-4gpu-split-ollama-9181.log"));
    expect(split.offload).toMatchObject({ library: "cuda", layersModel: 81, layersOffload: 44, layersSplit: [11, 11, 11, 11], requiredKv: 19.5 * GiB, graphFull: 8.2 * GiB });
    expect(split.offload!.available).toEqual([22 * GiB, 22 * GiB, 22 * GiB, 22 * GiB]);
    expect(split.offload!.allocations).toHaveLength(4);
    expect(split.runner).toMatchObject({ ctxSize: 64000, parallel: 1, flashAttn: true, tensorSplit: [11, 11, 11, 11] });
    expect(split.flashAttentionEnabled).toBe(true);
    const old = parseOllamaLog(log("ollama-serve-log-offload-to-cuda-ollama-8098.log"));
    expect(old.offload).toMatchObject({ library: "cuda", layersModel: 29, layersOffload: 29, requiredKv: 896 * MiB });
    const partial = parseOllamaLog(log("ollama-serve-log-partial-offload-ollama-8447.log"));
    expect(partial.systemMemory!.total).toBeCloseTo(628.5 * GiB, -6);
    expect(partial.offload).toMatchObject({ layersOffload: 5, layersModel: 62 });
    expect(partial.warnings).toContain("flash attention enabled but not supported by model");
    const one = parseOllamaLog(log("ollama-serve-log-offload-1gpu-ollama-12000.log"));
    expect(one.runner).toMatchObject({ ollamaEngine: true, ctxSize: 8192, gpuLayers: 48 });
    expect(one.offload!.projectorWeights).toBeCloseTo(795.9 * MiB, -4);
    const runner = log("ollama-runner-log-model-weights-2gpu-ollama-11090.log");
    const r = parseOllamaLog(runner);
    expect(r.offloaded).toEqual({ layers: 41, of: 41 });
    expect(Object.keys(r.weightsByBuffer)).toEqual(["CUDA0", "CUDA1", "CPU"]);
    // Actuals: the runner's own buffers (11.5 GiB + 11.9 GiB + 680 MiB).
    expect(ollamaActuals(runner).weightsBytes).toBe(Math.round(11.5 * GiB + 11.9 * GiB + 680 * MiB));
  });
});

describe("held out: hwledger's port of Ollama's estimate vs what each log printed", () => {
  const rows: string[] = [];
  for (const c of CASES) {
    it(`${c.file}: KV ${c.note}`, () => {
      const o = parseOllamaLog(log(c.file)).offload!;
      const batch = Math.min(c.numCtx, 512);
      const kv = ollamaKvPerLayer(c.model, c.numCtx, c.parallel, batch, "f16");
      const kvTotal = kv.reduce((a, b) => a + b, 0);
      // KV: within the printed precision on every log.
      expect(Math.abs(kvTotal - o.requiredKv)).toBeLessThanOrEqual(halfUnit(o.requiredKv));
      const g = ollamaGraphSize(c.model, c.numCtx * c.parallel, batch, kvTotal);
      // Several GPUs: Ollama uses (and prints) the partial graph for both (estimateGPULayers).
      const full = o.available.length > 1 ? g.partial : g.full;
      const { layerWeights, outputBytes } = ollamaOutputBytes(c.model, "Q4_K_M");
      const e = estimateGpuLayers({ gpus: o.available.map((a) => ({ freeBytes: a, minimumBytes: ollamaMinimumMemory("cuda") })), library: "cuda", layerWeights, kvPerLayer: kv, outputBytes, graphPartial: g.partial, graphFull: g.full });
      const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(1)}%`;
      rows.push(`${c.file}: kv ${(kvTotal / MiB).toFixed(0)} MiB vs ${(o.requiredKv / MiB).toFixed(0)} (${pct(kvTotal, o.requiredKv)}); graph full ${(full / MiB).toFixed(1)} vs ${(o.graphFull / MiB).toFixed(1)} (${pct(full, o.graphFull)}), partial ${(g.partial / MiB).toFixed(1)} vs ${(o.graphPartial / MiB).toFixed(1)} (${pct(g.partial, o.graphPartial)}); layers ${e.layers}/${e.layersModel} vs ${o.layersOffload}/${o.layersModel}, per-GPU ${e.allocations.map((a) => (a / GiB).toFixed(1)).join("/")} vs ${o.allocations.map((a) => (a / GiB).toFixed(1)).join("/")} GiB (weights: hwledger's Q4_K_M mix)`);
    });
  }
  it("graph sizes exact where hwledger has the model's GGUF vocabulary (8098 llama, 8447 deepseek2), and the printed summary", () => {
    for (const c of [CASES[0], CASES[3]]) {
      const o = parseOllamaLog(log(c.file)).offload!;
      const kvTotal = ollamaKvPerLayer(c.model, c.numCtx, c.parallel, 512, "f16").reduce((a, b) => a + b, 0);
      const g = ollamaGraphSize(c.model, c.numCtx * c.parallel, 512, kvTotal);
      expect(Math.abs(g.full - o.graphFull)).toBeLessThanOrEqual(halfUnit(o.graphFull));
      expect(Math.abs(g.partial - o.graphPartial)).toBeLessThanOrEqual(halfUnit(o.graphPartial));
    }
    console.log(["Ollama held-out (no fit):", ...rows].join("\n"));
  });
});

describe("Ollama plugin: plan and export", () => {
  it("plans llama.cpp's buffers for num_ctx × parallel cells in one cache, FA off before 0.12.6 with quantized KV refused", () => {
    const e = parseEngine("ollama");
    expect(e).toBe(engine("ollama"));
    const dep = makeDeployment(llama32_3b, { engine: e, context: 2048, seqs: 4, weights: "Q4_K_M" });
    const p = plan(llama32_3b, dep, e);
    // 28 layers × 8192 cells × 8 heads × (128 + 128) × 2 bytes: what llama.cpp allocates for -c 8192 (896 MiB, as Ollama estimated).
    expect(p.memory.kvCacheBytes).toBe(28 * 8192 * 8 * 256 * 2);
    const q8 = makeDeployment(llama32_3b, { engine: e, context: 2048, seqs: 1, kvDtype: "q8_0", weights: "Q4_K_M" });
    const old = plan(llama32_3b, { ...q8, options: { ollamaVersion: "0.11.6" } }, e);
    expect(old.warnings.join(" ")).toMatch(/without flash attention/);
    expect(old.memory.kvCacheBytes).toBe(28 * 2048 * 8 * 256 * 2);
  });

  it("fit says how many layers Ollama would put on the GPU (estimateGPULayers), all of them when the model fits", () => {
    const e = engine("ollama");
    const dep = makeDeployment(llama32_3b, { engine: e, context: 2048, seqs: 4, weights: "Q4_K_M" });
    const big = fit(llama32_3b, dep, e, { gpuMemoryBytes: 78.6 * GiB });
    // The 8098 log's GPU (78.6 GiB free): 29/29 layers, as it printed.
    expect(big.basis.at(-1)).toMatch(/would offload 29\/29 layers/);
    const small = fit(llama32_3b, dep, e, { gpuMemoryBytes: 2 * GiB });
    expect(small.basis.at(-1)).toMatch(/would offload \d+\/29 layers .*: the other \d+ run on the CPU/);
  });

  it("exports the server environment and a Modelfile (num_ctx, num_gpu)", () => {
    const e = engine("ollama");
    const dep = { ...makeDeployment(llama32_3b, { engine: e, context: 8192, seqs: 2, kvDtype: "q8_0", weights: "Q4_K_M" }), options: { gpuLayers: 20 } };
    const [serve, create] = e.exportCommands("meta-llama/Llama-3.2-3B-Instruct", dep, { gguf: "/models/l.gguf" });
    expect(serve.argv).toEqual(["env", "OLLAMA_NUM_PARALLEL=2", "OLLAMA_FLASH_ATTENTION=1", "OLLAMA_KV_CACHE_TYPE=q8_0", "ollama", "serve"]);
    expect(create.argv).toEqual(["ollama", "create", "llama-3.2-3b-instruct-q4_k_m", "-f", "Modelfile"]);
    expect(create.file!.text).toBe("FROM /models/l.gguf\nPARAMETER num_ctx 8192\nPARAMETER num_gpu 20\n");
    expect(() => e.exportCommands("m", { ...dep, options: { ollamaVersion: "0.11.6" } })).toThrow(/only with flash attention/);
  });
});
