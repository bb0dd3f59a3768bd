// The what-if page's logic (src/components/whatif.ts), in Node: URL state, solvers and the heatmap/growth data
// must agree with lib/calc's plan(), which the CLI prints.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fit, makeDeployment, modelFromHfConfig, plan } from "../lib/calc/index.js";
import { engineDevice } from "../lib/fleet/devices.js";
import { catalogConfig, catalogEntries } from "../loaders/catalog.js";
import { planWhatIf, CHART_MIN_CONTEXT, DEFAULTS, DEFAULT_MODEL, decodeState, stateProblems, encodeState, exportCommands, gaugeLevel, kvGrowth, layerCells, computeWhatIf, modelFromText, logContexts } from "../src/components/whatif.js";
import { engine } from "../plugins/engines.js";
import { draftBuffers } from "../plugins/engine-llamacpp/draft.js";

const GIB = 1024 ** 3;
const entry = catalogEntries().find((e) => e.slug === "llama-3.1-8b-instruct") ?? catalogEntries()[0];
const model = modelFromHfConfig(catalogConfig(entry), entry.id);

describe("what-if state in the URL", () => {
  it("round-trips every field, including a pasted UTF-8 config", () => {
    const s = { ...DEFAULTS, model: "", config: '{"model_type": "llama", "_name_or_path": "ünï/模型"}', engine: "llama.cpp", weights: "fp16", kv: "q8_0", context: 12345, seqs: 3, tp: 2, devices: ["rtx-4090", "h100-sxm-80gb"] };
    expect(decodeState(encodeState(s), "x")).toEqual(s);
    const c = { ...DEFAULTS, model: entry.slug };
    expect(decodeState(encodeState(c), "x")).toEqual(c);
  });

  it("llama.cpp's GPU layers and flash attention travel in the URL (ngl, fa)", () => {
    const s = { ...DEFAULTS, model: entry.slug, engine: "llama.cpp", gpuLayers: 12, flashAttn: false };
    expect(encodeState(s)).toContain("ngl=12");
    expect(decodeState(encodeState(s), "x")).toEqual(s);
  });

  it("falls back to defaults for missing or malformed fields", () => {
    const s = decodeState("?ctx=abc&seqs=-2&tp=1.5&cfg=%%%", "dflt");
    expect(s).toEqual({ ...DEFAULTS, model: "dflt" });
  });
});

describe("what-if URL problems are said", () => {
  const choices = { models: catalogEntries().map((e) => e.slug), engines: ["vllm", "llama.cpp", "mlx", "transformers"], weights: ["", "fp8"], kvs: ["f16", "fp8"], devices: ["rtx-4090", "h100-sxm-80gb"], defaultModel: DEFAULT_MODEL };
  it("one line per bad parameter, naming the value used instead", () => {
    const p = stateProblems("?model=nope&engine=bogus&ctx=-3&seqs=2&dev=rtx-4090,zz-9000", choices);
    expect(p).toEqual([
      `model "nope" is not in the catalog: using ${DEFAULT_MODEL}`,
      `engine "bogus" is not one of vllm, llama.cpp, mlx, transformers: using ${DEFAULTS.engine}`,
      `context "-3" is not a whole number ≥ 1: using ${DEFAULTS.context.toLocaleString("en-US")}`,
      `device "zz-9000" not in the device catalog: left out`,
    ]);
    expect(stateProblems(encodeState({ ...DEFAULTS, model: DEFAULT_MODEL, devices: ["rtx-4090"] }), choices)).toEqual([]);
    expect(choices.models).toContain(DEFAULT_MODEL);
  });

  it("charts start at a context someone serves, not at 1 token", () => {
    const xs = logContexts(131072);
    expect(xs[0]).toBe(CHART_MIN_CONTEXT);
    expect(xs.at(-1)).toBe(131072);
    expect(logContexts(256)[0]).toBe(256);
  });
});

describe("what-if figures", () => {
  it("gauge: green up to 80%, yellow up to 95%, red above", () => {
    expect([0.5, 0.8, 0.8001, 0.95, 0.9501, 2].map(gaugeLevel)).toEqual(["green", "green", "yellow", "yellow", "red", "red"]);
  });

  it("each device's capacity is the engine's own fit on the memory its runtime reports (hwledger fit --device)", () => {
    const devs = ["rtx-4090", "h100-sxm-80gb"].map((id) => ({ ...engineDevice(id), category: "x", bandwidthBytesPerSecond: null }));
    for (const eng of ["vllm", "llama.cpp"]) {
      const w = computeWhatIf(model, { ...DEFAULTS, model: entry.slug, engine: eng, context: 8192 }, devs);
      for (const f of w.fits) {
        const direct = fit(model, { ...w.dep, options: { device: engineDevice(f.device.id) } }, engine(eng), { gpuMemoryBytes: f.device.memoryBytes });
        expect(f.capacity.kvCapacityTokens).toBe(direct.kvCapacityTokens);
        expect(f.capacity.maxContext).toBe(direct.maxContext);
        expect(f.capacity.maxSeqs).toBe(Math.floor(direct.maxConcurrency));
      }
      // vLLM keeps 10% of the GPU back (gpu_memory_utilization 0.9): fewer tokens than llama.cpp on the same card.
      expect(w.fits[0].capacity.kvCapacityTokens).toBeGreaterThan(0);
    }
  });

  it("llama.cpp GPU-layers slider and flash-attention toggle: the figures of plan --gpu-layers N --flash-attn off, a GPU holding only its own buffers", () => {
    const w = computeWhatIf(model, { ...DEFAULTS, model: entry.slug, engine: "llama.cpp", weights: "Q4_K_M", context: 8192, gpuLayers: 20, flashAttn: false }, [{ id: "rtx-4090", name: "RTX 4090", memoryBytes: 24 * GIB, bandwidthBytesPerSecond: null } as never]);
    const dep = makeDeployment(model, { engine: engine("llama.cpp"), weights: "Q4_K_M", context: 8192, options: { gpuLayers: 20, flashAttention: false } });
    const p = plan(model, dep, engine("llama.cpp"));
    expect(w.plan.memory).toEqual(p.memory);
    const gpu = p.buffers!.find((b) => b.device === "CUDA0")!;
    expect(gpu.layers).toBe(19);
    expect(w.fits[0].needBytes).toBe(gpu.modelBytes + gpu.kvBytes + gpu.computeBytes + gpu.outputBytes + gpu.projectorBytes + gpu.draftBytes);
    expect(w.fits[0].needBytes).toBeLessThan(p.memory.totalBytes);
  });

  it("heatmap cells add up to plan()'s per-layer weights and cache", () => {
    const w = computeWhatIf(model, { ...DEFAULTS, model: entry.slug, context: 4096, seqs: 2 }, []);
    const cells = layerCells(w);
    const p = plan(model, w.dep, engine(w.dep.engine));
    for (const row of p.layers) {
      const sum = cells.filter((c) => c.layer === row.index).reduce((a, c) => a + c.bytes, 0);
      expect(sum).toBeCloseTo(row.weightBytes + row.kvBytes, -1);
    }
    expect(new Set(cells.map((c) => c.component))).toContain("cache: full");
  });

  it("KV growth ends at the model's max context with plan()'s figure", () => {
    const dep = makeDeployment(model, { engine: engine("vllm"), context: 1, tp: 2 });
    const rows = kvGrowth(model, dep, model.maxContext);
    const last = rows.filter((r) => r.series === "KV cache").at(-1)!;
    expect(last.context).toBe(model.maxContext);
    expect(last.bytes).toBe(plan(model, { ...dep, context: model.maxContext }, engine(dep.engine)).memory.kvCacheBytes / 2);
    expect(logContexts(1000, 10)).toEqual([...new Set(logContexts(1000, 10))].sort((a, b) => a - b));
  });

  it("export commands carry the plan's context, sequences, parallelism and KV types", () => {
    const dep = makeDeployment(model, { engine: engine("llama.cpp"), kvDtype: "q8_0", context: 32768, seqs: 2, tp: 1 });
    const cmds = Object.fromEntries(exportCommands(model, dep).map((c) => [c.engine, c.command]));
    expect(cmds["llama.cpp"]).toContain("-c 65536 -np 2 --no-kv-unified -ctk q8_0 -ctv q8_0 -fa on -ngl 999");
    const ollama = exportCommands(model, dep).filter((c) => c.engine === "ollama");
    expect(ollama[0].command).toBe("env OLLAMA_NUM_PARALLEL=2 OLLAMA_FLASH_ATTENTION=1 OLLAMA_KV_CACHE_TYPE=q8_0 ollama serve");
    expect(ollama[1].note).toContain("PARAMETER num_ctx 32768");
    const v = exportCommands(model, makeDeployment(model, { engine: engine("vllm"), kvDtype: "fp8", context: 8192, seqs: 16, tp: 4 }));
    // The page shows what `hwledger export` prints: the engine plugins' own command lines.
    expect(v[0].command).toBe(`vllm serve ${model.id} --max-model-len 8192 --tensor-parallel-size 4 --pipeline-parallel-size 1 --kv-cache-dtype fp8 --max-num-seqs 16 --dtype bfloat16`);
    // MLX's quantized cache exists in no server here (llama.cpp has no q4 cache type, mlx_lm.server no --kv-bits):
    // no line rather than a wrong one.
    expect(exportCommands(model, makeDeployment(model, { engine: engine("mlx"), kvDtype: "q4", context: 4096 })).map((c) => c.engine)).toEqual([]);
  });

  it("a pasted config is planned like the same file; bad text is one clear line", () => {
    const text = readFileSync(`loaders/catalog/configs/${entry.file}`, "utf8");
    expect(modelFromText(text).model.layers.length).toBe(model.layers.length);
    expect(() => modelFromText("{")).toThrow(/^pasted text: malformed config\.json/);
    expect(() => modelFromText("[1]")).toThrow("pasted text: config.json must be a JSON object");
    expect(() => modelFromText('{"hidden_size": 1}')).toThrow(/no "model_type"/);
  });
});

describe("what-if: llama.cpp projector and draft model (--mmproj, -md)", () => {
  const draftEntry = catalogEntries().find((e) => e.slug === "llama-3.2-1b-instruct") ?? catalogEntries().find((e) => e.slug !== entry.slug)!;
  const draft = modelFromHfConfig(catalogConfig(draftEntry), draftEntry.id);
  const base = { ...DEFAULTS, model: entry.slug, engine: "llama.cpp", weights: "Q4_K_M", devices: ["rtx-4090"] };

  it("travel in the URL; an unknown draft or a bad size is said", () => {
    const s = { ...base, projectorMiB: 600, projectorOnHost: true, draft: draftEntry.slug };
    expect(decodeState(encodeState(s), "x")).toEqual(s);
    const problems = stateProblems("?draft=nope&mmproj=-4", { models: [entry.slug], engines: ["llama.cpp"], weights: [""], kvs: ["f16"], devices: [], defaultModel: entry.slug });
    expect(problems).toEqual([expect.stringMatching(/^draft model "nope" is not in the catalog: using no draft$/), expect.stringMatching(/^projector size "-4"/)]);
  });

  it("the projector lands on the first GPU, or in host RAM; the draft's buffers follow the context", () => {
    const on = planWhatIf(model, { ...base, projectorMiB: 600 }, [], {}).plan.buffers!;
    expect(on.find((b) => b.device !== "CPU")!.projectorBytes).toBe(600 * 1024 * 1024);
    const host = planWhatIf(model, { ...base, projectorMiB: 600, projectorOnHost: true }, [], {}).plan.buffers!;
    expect(host.find((b) => b.device === "CPU")!.projectorBytes).toBe(600 * 1024 * 1024);
    const at = (context: number) => planWhatIf(model, { ...base, context, draft: draftEntry.slug }, [], { draftModel: draft }).plan.buffers!.find((b) => b.device !== "CPU")!.draftBytes;
    // The same figures as `hwledger plan --draft` (plugins/engine-llamacpp/draft.ts, one rule for both).
    const e = engine("llama.cpp");
    const d = draftBuffers(draft, { context: 8192, seqs: 1, options: {} }, e, "Q4_K_M");
    expect(at(8192)).toBe(d.weightsBytes + d.kvBytes + d.computeBytes);
    expect(at(32768)).toBeGreaterThan(at(8192));
  });
});
