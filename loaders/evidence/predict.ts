// hwledger's prediction for each figure of an evidence case, through the planner's public functions (plan, fit,
// speed, makeDeployment, llamaCppCaches: what the CLI calls). Every call into the planner made by the evidence
// pipeline is in this module. Pure: the caller gives the case, its model and the figures read from its log.
import { fit, makeDeployment, modelFromHfConfig, parseConfigText, plan, speed } from "../../lib/calc/index.js";
import type { Deployment, MemoryPlan, ModelSpec } from "../../lib/calc/index.js";
import { llamaCppCaches } from "../../plugins/engine-llamacpp/index.js";
import { ollamaPrintedEstimate } from "../../plugins/engine-ollama/index.js";
import { vllmKvFromBudget, vllmStartup } from "../../plugins/engine-vllm/index.js";
import { engine, parseEngine } from "../../plugins/engines.js";
import { benchmarkClassOf, placementDevice } from "../../lib/fleet/caps.js";
import { engineDevice, findDevice } from "../../lib/fleet/devices.js";
import { modelFromGguf } from "../gguf.js";
import type { ReadFigure } from "./read.js";
import { releaseTerms } from "./release-terms.js";
import { UNIT_SCALE } from "./schema.js";
import type { EvidenceCase, EvidenceFigure, Quantity } from "./schema.js";

const GIB = 2 ** 30;
/** vLLM logs "Available KV cache memory: %.2f GiB" (gpu_worker.py): the true budget is within half a hundredth. */
const VLLM_BUDGET_HALF_STEP = 0.005 * GIB;

/** How a prediction was made: from the log's printed KV budget, from the GPU's total memory, from a plan, or the speed model. */
export type Route = "budget" | "gpu" | "plan" | "speed";

export interface EvidenceRow {
  case: string;
  engine: EvidenceCase["engine"];
  release: string;
  set: EvidenceCase["set"];
  derivedFor?: string[];
  architecture: string;
  model: string;
  hardware: string;
  source: EvidenceCase["source"];
  figure: string;
  quantity: Quantity;
  unit: EvidenceFigure["unit"];
  stage?: number;
  from: Route | null;
  reported: number;
  printed?: string;
  predicted: number | null;
  /** The prediction printed at the reported figure's precision (printf rounding), when the figure was printed. */
  predictedPrinted?: string;
  /** Predictions from the printed input's rounding interval (vLLM's two-decimal budget). */
  predictedRange?: [number, number];
  errorPct: number | null;
  /** Terms of older engine releases added to the planner's figure. */
  adjustments?: { term: string; bytes: number; source: string }[];
  /** The plan's memory split, for figures predicted from a plan (bytes, whole deployment). */
  breakdown?: MemoryPlan["memory"];
  /** Whether the engine's error goal applies (false: reported only; see the case's or the figure's notHeld). */
  held: boolean;
  note?: string;
  /** Speed figures: the catalog device, its benchmark class (NVIDIA consumer, NVIDIA datacenter, AMD, Apple, Intel) and the test. */
  device?: string;
  deviceClass?: string;
  test?: { prompt: number; gen: number; depth?: number };
}

/** The model a case describes, built the way the CLI builds one (config.json or GGUF metadata). */
export function modelFromConfig(config: Record<string, unknown> | string, label: string): ModelSpec {
  return modelFromHfConfig(typeof config === "string" ? parseConfigText(config, label) : config, label);
}
export function modelFromGgufMetadata(meta: Record<string, unknown>, label: string): ModelSpec {
  return modelFromGguf(meta as never, [], label);
}

// The class evidence is grouped by lives in lib/calc (reports ask it too).
import { architectureClass } from "../../lib/calc/index.js";
export { architectureClass };

/** printf("%.Nf") of a value in `unit`: an exact binary tie rounds to even (glibc, CPython), as the engines print. */
export function printedAs(value: number, unit: EvidenceFigure["unit"], decimals: number): string {
  const s = 10 ** decimals;
  const x = (value / UNIT_SCALE[unit]) * s;
  const f = Math.floor(x);
  const r = x - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(x);
  return (r / s).toFixed(decimals);
}

function deployment(c: EvidenceCase, model: ModelSpec): Deployment {
  const s = c.settings;
  // A case's device is the one the engine ran on, as the CLI's --device sets it.
  const options = { ...(s.options as Deployment["options"]), ...(s.device ? { device: engineDevice(s.device) } : {}) };
  return makeDeployment(model, { engine: parseEngine(c.engine), context: s.context, seqs: s.seqs, tp: s.tp, pp: s.pp, weights: s.weights, kvDtype: s.kvDtype, options });
}

interface Prediction {
  from: Route;
  value: number;
  range?: [number, number];
  adjustments?: EvidenceRow["adjustments"];
  breakdown?: MemoryPlan["memory"];
  /** False when the prediction's input is known to be incomplete (reported, not held to the goal). */
  held?: boolean;
  note?: string;
}

/** The prediction(s) of one figure: vLLM's KV figures come from the printed budget and, when the GPU is known, from its total memory. */
function predictFigure(c: EvidenceCase, model: ModelSpec, dep: Deployment, f: EvidenceFigure, budgets: ReadFigure[] | undefined, partialBudget: boolean): Prediction[] {
  const s = c.settings;
  const ranks = dep.tp * dep.pp;
  const gpu = s.gpuMemoryGiB !== undefined && s.gpuMemoryUtilization !== undefined ? { gpuMemoryBytes: s.gpuMemoryGiB * GIB, gpuMemoryUtilization: s.gpuMemoryUtilization } : undefined;
  const planned = () => plan(model, dep, engine(dep.engine));
  // vLLM's start-up components per pipeline stage, when the GPU is known: the accounting `fit --gpu-memory-gib` runs.
  const startup = () => vllmStartup(model, dep, gpu!.gpuMemoryBytes, gpu!.gpuMemoryUtilization);
  const stage = f.stage ?? 0;
  switch (f.quantity) {
    case "weightsPerRank":
      return gpu ? [{ from: "gpu", value: startup().weightsBytes[stage] }] : [{ from: "plan", value: planned().devices[stage * dep.tp].weightsBytes }];
    case "profilePeak":
      return gpu ? [{ from: "gpu", value: startup().peakBytes[stage] }] : [{ from: "plan", value: planned().memory.activationBytes / ranks }];
    case "nonTorch":
      return gpu ? [{ from: "gpu", value: startup().nonTorchBytes }] : [{ from: "plan", value: planned().memory.overheadBytes / ranks }];
    case "kvBudget":
      // A budget printed by one pipeline stage's worker is that stage's (vLLM 0.19 prints PP0's), not the binding one.
      if (!gpu) return [];
      return [{ from: "gpu", value: f.stage !== undefined ? startup().availableBytes[stage] : fit(model, dep, engine(dep.engine), gpu).availableKvBytes }];
    case "kvTokens":
    case "maxConcurrency": {
      const pick = (r: { kvCapacityTokens: number; maxConcurrency: number }) => (f.quantity === "kvTokens" ? r.kvCapacityTokens : round2(r.maxConcurrency));
      const out: Prediction[] = [];
      if (budgets?.length) {
        const at = (delta: number) => pick(kvFromBudgets(model, dep, budgets.map((b) => b.value + delta)));
        const half = budgets[0].printed ? 0.5 * 10 ** -decimalsOf(budgets[0].printed) * GIB : VLLM_BUDGET_HALF_STEP;
        out.push({ from: "budget", value: at(0), range: [at(-half), at(half)], ...(partialBudget ? { held: false, note: "the printed budget is one worker's of several" } : {}) });
      }
      if (gpu) out.push({ from: "gpu", value: pick(fit(model, dep, engine(dep.engine), gpu)) });
      return out;
    }
    case "kvCache":
      return [{ from: "plan", value: planned().memory.kvCacheBytes }];
    case "kvCacheBase":
    case "kvCacheSwa":
    case "recurrentState":
    case "kvCells":
    case "kvCellsSwa": {
      const d = llamaCppCaches(model, dep);
      const value = { kvCacheBase: d.base.kBytes + d.base.vBytes, kvCacheSwa: d.swa.kBytes + d.swa.vBytes, recurrentState: d.recurrent.bytes, kvCells: d.base.cells, kvCellsSwa: d.swa.cells }[f.quantity];
      return [{ from: "plan", value }];
    }
    case "weights":
      return [{ from: "plan", value: planned().memory.weightsBytes }];
    case "peakMemory": {
      const p = plan(model, dep, engine(dep.engine), { layers: false });
      const adjustments = releaseTerms(s.releaseTerms ?? [], c.engine, {
        model, prompt: s.prompt ?? 0, gen: s.gen ?? 0, seqs: dep.seqs, context: dep.context, prefillStep: Number(s.options?.prefillStepSize ?? 2048), kvBytesPerToken: p.kv.bytesPerToken,
      });
      return [{ from: "plan", value: p.memory.totalBytes + adjustments.reduce((a, t) => a + t.bytes, 0), adjustments: adjustments.length ? adjustments : undefined, breakdown: p.memory }];
    }
    case "peakAboveWeights": {
      const p = plan(model, dep, engine(dep.engine), { layers: false });
      return [{ from: "plan", value: p.memory.kvCacheBytes + p.memory.activationBytes, breakdown: p.memory }];
    }
    case "ollamaKv":
    case "ollamaGraphFull":
    case "ollamaGraphPartial": {
      // Ollama's own estimate (plugins/engine-ollama/estimate.ts): --context is num_ctx, --seqs the parallel slots.
      const e = ollamaPrintedEstimate(model, dep.context, dep.seqs, c.hardware.count ?? 1, "cuda", dep.kvDtypeK);
      return [{ from: "plan", value: { ollamaKv: e.kv, ollamaGraphFull: e.graphFull, ollamaGraphPartial: e.graphPartial }[f.quantity] }];
    }
    case "prefillTps":
    case "decodeTps": {
      if (!s.device) throw new Error(`${c.id}: a speed figure needs settings.device`);
      const test = speedTest(c, f);
      const r = speed(model, dep, engine(dep.engine), placementDevice(findDevice(s.device)), { ...test, seqs: dep.seqs });
      const v = f.quantity === "prefillTps" ? r.prefillTokensPerSecond : r.decodeTokensPerSecond;
      return v === null ? [] : [{ from: "speed", value: v, ...(f.notHeld ? { held: false, note: f.notHeld } : {}) }];
    }
  }
}

/**
 * vLLM KV figures from printed budgets. One budget for every stage is `fit --kv-budget-gib`; a pipeline log prints
 * one per stage, which fit cannot take, so those go to the engine's own per-stage rule.
 */
function kvFromBudgets(model: ModelSpec, dep: Deployment, perStage: number[]): { kvCapacityTokens: number; maxConcurrency: number } {
  if (perStage.length === 1) return fit(model, dep, engine(dep.engine), { kvBudgetBytes: perStage[0] });
  return vllmKvFromBudget(model, dep, perStage);
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The test of a speed figure: its own (llama-bench ppN / tgN / @dD), else the case's prompt and gen. */
function speedTest(c: EvidenceCase, f: EvidenceFigure): { prompt: number; gen: number; depth?: number } {
  return f.test ?? { prompt: c.settings.prompt ?? 0, gen: c.settings.gen ?? 0 };
}
const decimalsOf = (printed: string) => (printed.split(".")[1] ?? "").length;

/** Rows for one case: one per reported figure and prediction route (a figure without a prediction gets one row saying why). */
export function predictCase(c: EvidenceCase, model: ModelSpec | undefined, read: ReadFigure[]): EvidenceRow[] {
  const dep = model ? deployment(c, model) : undefined;
  const budgets = c.figures.map((f, i) => ({ f, r: read[i] })).filter((x) => x.f.quantity === "kvBudget").sort((a, b) => (a.f.stage ?? 0) - (b.f.stage ?? 0));
  const partialBudget = budgets.some((b) => b.f.oneWorkerOfSeveral);
  const base = {
    case: c.id, engine: c.engine, release: c.release, set: c.set, ...(c.derivedFor ? { derivedFor: c.derivedFor } : {}),
    architecture: architectureClass(model), model: c.model.name, hardware: c.hardware.count && c.hardware.count > 1 ? `${c.hardware.count}× ${c.hardware.name}` : c.hardware.name, source: c.source,
  };
  const rows: EvidenceRow[] = [];
  const dev = c.settings.device ? findDevice(c.settings.device) : undefined;
  c.figures.forEach((f, i) => {
    const r = read[i];
    const speedFigure = f.quantity === "prefillTps" || f.quantity === "decodeTps";
    const figure = {
      figure: f.name, quantity: f.quantity, unit: f.unit, ...(f.stage !== undefined ? { stage: f.stage } : {}), reported: r.value, ...(r.printed !== undefined ? { printed: r.printed } : {}),
      ...(speedFigure && dev ? { device: dev.id, deviceClass: benchmarkClassOf(dev.category), test: speedTest(c, f) } : {}),
    };
    const why = f.noPrediction ?? (model ? undefined : (c.model.note ?? "no model config for this run"));
    const preds = why || !dep ? [] : predictFigure(c, model!, dep, f, budgets.length ? budgets.map((b) => b.r) : undefined, partialBudget);
    if (!preds.length) {
      const input = f.quantity === "kvBudget" && budgets.length ? "the input of the KV predictions from the printed budget" : undefined;
      rows.push({ ...base, ...figure, from: null, predicted: null, errorPct: null, held: false, note: why ?? input ?? "no prediction for this figure" });
      return;
    }
    for (const p of preds) {
      rows.push({
        ...base,
        ...figure,
        from: p.from,
        predicted: p.value,
        ...(r.printed !== undefined && !r.printed.includes(",") ? { predictedPrinted: printedAs(p.value, f.unit, decimalsOf(r.printed)) } : {}),
        ...(p.range ? { predictedRange: p.range } : {}),
        errorPct: r.value !== 0 ? (p.value / r.value - 1) * 100 : null,
        ...(p.adjustments ? { adjustments: p.adjustments } : {}),
        ...(p.breakdown ? { breakdown: p.breakdown } : {}),
        held: p.held !== false && !c.notHeld?.from.includes(p.from),
        ...(p.note || f.note ? { note: [f.note, p.note].filter(Boolean).join("; ") } : {}),
      });
    }
  });
  return rows;
}
