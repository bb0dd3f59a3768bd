// plan_evals_per_s: plan() totals over the whole catalog × 20 contexts × 6 quants × 4 engines, on one core.
// fit_solve_us: one `fit` solve. speed_evals_per_s: speed predictions per second over the catalog.
import { ENGINE_IDS, fit, makeDeployment, modelFromHfConfig, plan, speed, weightSchemeNames } from "../lib/calc/index.js";
import type { Deployment, ModelSpec } from "../lib/calc/index.js";
import { placementDevice } from "../lib/fleet/caps.js";
import { findDevice } from "../lib/fleet/devices.js";
import { catalogConfig, catalogEntries } from "../loaders/catalog.js";
import type { BenchFigure } from "./run.js";

const WANTED_QUANTS = ["bf16", "fp8", "awq", "Q8_0", "Q4_K_M", "nf4"];

function catalogModels(): ModelSpec[] {
  return catalogEntries().map((e) => modelFromHfConfig(catalogConfig(e), e.id));
}

export function run(): BenchFigure[] {
  const models = catalogModels();
  const known = new Set(weightSchemeNames().map((n) => n.toLowerCase()));
  const quants = WANTED_QUANTS.filter((q) => known.has(q.toLowerCase()));
  const contexts = Array.from({ length: 20 }, (_, i) => Math.round(512 * Math.pow(2, (i * 8) / 19)));
  // Every deployment a sweep would offer: a scheme an engine cannot load (e.g. a GGUF mix on vLLM) is skipped.
  const pairs: Array<readonly [ModelSpec, Deployment]> = [];
  for (const m of models)
    for (const engine of ENGINE_IDS)
      for (const w of quants)
        for (const c of contexts) {
          try {
            const d = makeDeployment(m, { engine, weights: w, context: c });
            plan(m, d, { layers: false });
            pairs.push([m, d]);
          } catch {
            // not a deployment this engine can run
          }
        }
  // Warm up (memoized weights per model and scheme, JIT), then time whole sweeps.
  for (const [m, d] of pairs) plan(m, d, { layers: false });
  let evals = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 3000) {
    for (const [m, d] of pairs) plan(m, d, { layers: false });
    evals += pairs.length;
  }
  const planPerS = evals / ((performance.now() - t0) / 1000);

  const llama = models.find((m) => m.id === "meta-llama/Llama-3.1-8B-Instruct") ?? models[0];
  const fdep = makeDeployment(llama, { engine: "vllm", context: 8192 });
  const budget = { gpuMemoryBytes: 79.19 * 1024 ** 3, gpuMemoryUtilization: 0.9 };
  fit(llama, fdep, budget);
  let n = 0;
  const t1 = performance.now();
  while (performance.now() - t1 < 1000) {
    fit(llama, fdep, budget);
    n++;
  }
  const fitUs = ((performance.now() - t1) * 1000) / n;

  const device = placementDevice(findDevice("rtx-4090"));
  const sdeps = models.map((m) => [m, makeDeployment(m, { engine: "llama.cpp", context: 4096 })] as const);
  let s = 0;
  const t2 = performance.now();
  while (performance.now() - t2 < 1000) {
    for (const [m, d] of sdeps) speed(m, d, device, { prompt: 512, gen: 128, seqs: 1 });
    s += sdeps.length;
  }
  const speedPerS = s / ((performance.now() - t2) / 1000);
  return [
    { name: "plan_evals_per_s", value: Math.round(planPerS), unit: `evals/s (${pairs.length} deployments: ${models.length} models × ${ENGINE_IDS.length} engines × ${quants.length} quants [${quants.join(",")}] × 20 contexts)` },
    { name: "fit_solve_us", value: Number(fitUs.toFixed(1)), unit: "µs per fit (Llama 3.1 8B, vLLM, H100 79.19 GiB)" },
    { name: "speed_evals_per_s", value: Math.round(speedPerS), unit: `speed predictions/s over ${models.length} catalog models` },
  ];
}
