// plan_evals_per_s: evaluations of compiled plans (one compile per model × engine × weights, then 20 contexts each)
// over the whole catalog, on one core; plan_compile_us: one compile. fit_solve_us: one `fit` (compile included).
// speed_evals_per_s: speed predictions per second from compiled speed tables. plan_100k_layers_ms: a one-off plan()
// of a 100,000-layer config, the slowest engine (work is linear in the layers).
import { compilePlan, compileSpeed, fit, makeDeployment, modelFromHfConfig, plan, planTotals, speedOf, weightSchemeNames } from "../lib/calc/index.js";
import type { ModelSpec, PlanTable } from "../lib/calc/index.js";
import { placementDevice } from "../lib/fleet/caps.js";
import { findDevice } from "../lib/fleet/devices.js";
import { catalogConfig, catalogEntries } from "../loaders/catalog.js";
import { ENGINES, engine } from "../plugins/engines.js";
import type { BenchFigure } from "./run.js";

const WANTED_QUANTS = ["bf16", "fp8", "awq", "Q8_0", "Q4_K_M", "nf4"];

function catalogModels(): ModelSpec[] {
  return catalogEntries().map((e) => modelFromHfConfig(catalogConfig(e), e.id));
}

/**
 * `model` with its layers repeated to `n` (tensor names renumbered): a depth no config.json may ask for (the input
 * edge refuses it, lib/calc/limits.ts) but what shows whether the planner's work is linear in the layers.
 */
export function withLayers(model: ModelSpec, n: number): ModelSpec {
  const k = model.layers.length;
  const layers = Array.from({ length: n }, (_, i) => {
    const l = model.layers[i % k];
    return { ...l, index: i, tensors: l.tensors.map((t) => ({ ...t, name: t.name.replace(/^blk\.\d+\./, `blk.${i}.`) })) };
  });
  return { ...model, id: `${model.id} × ${n} layers`, layers };
}

/** A llama-style model with `n` small layers. */
export function manyLayers(n: number): ModelSpec {
  return withLayers(modelFromHfConfig({ model_type: "llama", hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 128, vocab_size: 256, max_position_embeddings: 4096 }, "llama"), n);
}

export function run(): BenchFigure[] {
  const models = catalogModels();
  const known = new Set(weightSchemeNames().map((n) => n.toLowerCase()));
  const quants = WANTED_QUANTS.filter((q) => known.has(q.toLowerCase()));
  const contexts = Array.from({ length: 20 }, (_, i) => Math.round(512 * Math.pow(2, (i * 8) / 19)));
  // Every deployment shape a sweep would offer: a scheme an engine cannot load (e.g. a GGUF mix on vLLM) is skipped.
  const shapes: Array<() => PlanTable> = [];
  for (const m of models)
    for (const e of ENGINES)
      for (const w of quants) {
        try {
          const d = makeDeployment(m, { engine: e, weights: w, context: contexts[0] });
          compilePlan(m, d, e);
          shapes.push(() => compilePlan(m, d, e));
        } catch {
          // not a deployment this engine can run
        }
      }
  const t0 = performance.now();
  const tables = shapes.map((c) => c());
  const compileUs = ((performance.now() - t0) * 1000) / shapes.length;
  for (const t of tables) for (const c of contexts) planTotals(t, c, 1);
  let evals = 0;
  const t1 = performance.now();
  while (performance.now() - t1 < 3000) {
    for (const t of tables) for (const c of contexts) planTotals(t, c, 1);
    evals += tables.length * contexts.length;
  }
  const planPerS = evals / ((performance.now() - t1) / 1000);

  const llama = models.find((m) => m.id === "meta-llama/Llama-3.1-8B-Instruct") ?? models[0];
  const vllm = engine("vllm");
  const fdep = makeDeployment(llama, { engine: vllm, context: 8192 });
  const budget = { gpuMemoryBytes: 79.19 * 1024 ** 3, gpuMemoryUtilization: 0.9 };
  fit(llama, fdep, vllm, budget);
  let n = 0;
  const t2 = performance.now();
  while (performance.now() - t2 < 1000) {
    fit(llama, fdep, vllm, budget);
    n++;
  }
  const fitUs = ((performance.now() - t2) * 1000) / n;

  const device = placementDevice(findDevice("rtx-4090"));
  const llamacpp = engine("llama.cpp");
  const speedTables = models.map((m) => compileSpeed(m, makeDeployment(m, { engine: llamacpp, context: 4096 }), llamacpp));
  let s = 0;
  const t3 = performance.now();
  while (performance.now() - t3 < 1000) {
    for (const t of speedTables) speedOf(t, device, { prompt: 512, gen: 128, seqs: 1 });
    s += speedTables.length;
  }
  const speedPerS = s / ((performance.now() - t3) / 1000);

  const huge = manyLayers(100_000);
  const perEngine = ENGINES.map((e) => {
    const t = performance.now();
    plan(huge, makeDeployment(huge, { engine: e, context: 4096 }), e);
    return [e.id, performance.now() - t] as const;
  });
  const slowest = Math.max(...perEngine.map(([, ms]) => ms));
  return [
    { name: "plan_evals_per_s", value: Math.round(planPerS), unit: `evals/s of compiled plans (${tables.length} compiled: ${models.length} models × ${ENGINES.length} engines × ${quants.length} quants [${quants.join(",")}], × 20 contexts each)` },
    { name: "plan_compile_us", value: Number(compileUs.toFixed(1)), unit: `µs per compilePlan (mean over the ${tables.length} catalog deployments)` },
    { name: "fit_solve_us", value: Number(fitUs.toFixed(1)), unit: "µs per fit, compile included (Llama 3.1 8B, vLLM, H100 79.19 GiB)" },
    { name: "speed_evals_per_s", value: Math.round(speedPerS), unit: `speed predictions/s from compiled speed tables over ${models.length} catalog models` },
    { name: "plan_100k_layers_ms", value: Number(slowest.toFixed(1)), unit: `ms for one plan() of a 100,000-layer config, slowest engine (${perEngine.map(([id, ms]) => `${id} ${ms.toFixed(0)}`).join(", ")})` },
  ];
}
