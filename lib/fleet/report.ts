// A model's capacity report: architecture, parameters, memory per weight scheme × context (each scheme under the engine
// that serves it), the context each device fits (the engine's own answer, lib/calc deviceCapacity, as `hwledger fit
// --device`), a one-line verdict, the per-layer split where layers differ, and the held-out evidence error of the
// model's architecture class. `hwledger report` prints it; the published /reports/<slug> pages draw the same object.
import { InputError, architectureClass, compilePlan, deviceCapacity, makeDeployment, nativeWeights, planFrom, planTotals, schemeApplies, weightSchemeNames } from "../calc/index.js";
import type { DeviceView, EngineId, ModelSpec } from "../calc/index.js";
import type { PlacementEngine } from "./engine.js";

/** A device as the engine sees it (lib/fleet/devices.ts engineDevice), with the name to show and its catalog class. */
export interface ReportDevice extends DeviceView {
  catalogName?: string;
  category?: string;
}

/** The usual ways a model is served, where the calculator knows the scheme (the checkpoint's own goes first). */
export const REPORT_SCHEMES = ["bf16", "fp8", "int8", "awq", "mxfp4", "mlx-4bit", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "IQ2_XS"];

export interface SchemeRow {
  weights: string;
  /** The engine that serves the scheme: the one that owns it (GGUF → llama.cpp, MLX → MLX), else the report's. */
  engine: EngineId;
  /** Why the scheme does not apply to this model ("n/a"), when it does not. */
  notApplicable?: string;
  /** Total for one sequence at each of `contexts` (null: n/a or the engine cannot load it). */
  totalBytes: Array<number | null>;
}

export interface DeviceFitRow {
  device: string;
  name: string;
  category?: string;
  memoryBytes: number;
  /** Longest context of one sequence (native weights, the report's engine); 0: does not fit. */
  maxContext: number;
  kvCapacityTokens: number;
}

export interface EvidenceError {
  engine: string;
  architecture: string;
  figures: number;
  cases: number;
  medianAbsPct: number;
  maxAbsPct: number;
}

export interface CapacityReport {
  model: string;
  family: string;
  modelType: string;
  architectureClass: string;
  maxContext: number;
  layers: Record<string, number>;
  params: { total: number; active: number; embedding: number };
  engine: EngineId;
  verdict: string;
  contexts: number[];
  memory: SchemeRow[];
  /** Memory against context per applicable scheme (log-spaced contexts), for the lines chart. */
  curves: Array<{ weights: string; context: number; bytes: number }>;
  fits: DeviceFitRow[];
  /** Per-layer weights and cache at `layerContext`, only when the layers differ (kinds, MoE, cache sizes). */
  layerRows?: Array<{ layer: number; kind: string; weightBytes: number; kvBytes: number }>;
  layerContext: number;
  /** Held-out evidence error of the report's engine on this architecture class, when evidence was handed in. */
  evidence?: EvidenceError;
}

/** The minimal evidence row the report reads (loaders/evidence EvidenceRow, or /evidence's data). */
export interface EvidenceRowLite {
  case: string;
  engine: string;
  architecture: string;
  set: string;
  held: boolean;
  errorPct: number | null;
  quantity: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Held-out memory-figure error of an engine on an architecture class (speed figures are reported on /evidence). */
export function evidenceErrorFor(rows: readonly EvidenceRowLite[], engine: string, architecture: string): EvidenceError | undefined {
  const rs = rows.filter((r) => r.engine === engine && r.architecture === architecture && r.set === "held-out" && r.held && r.errorPct !== null && !/per_second|speed/i.test(r.quantity));
  if (!rs.length) return undefined;
  const abs = rs.map((r) => Math.abs(r.errorPct!));
  return { engine, architecture, figures: rs.length, cases: new Set(rs.map((r) => r.case)).size, medianAbsPct: median(abs), maxAbsPct: Math.max(...abs) };
}

/** "128k", "42k", "2,800": a context as a reader says it. */
export function tokensShort(n: number): string {
  return n >= 10240 ? `${Math.floor(n / 1024)}k` : n.toLocaleString("en-US");
}

/** Contexts of the memory table: 4k, 32k, 128k and the model's own, up to its window. */
export function reportContexts(model: ModelSpec): number[] {
  return [4096, 32768, 131072, model.maxContext].filter((c, i, a) => c <= model.maxContext && a.indexOf(c) === i).sort((a, b) => a - b);
}

/** 1k, 1.4k, 2k, 2.8k, … (half powers of two, so every power of two is a point) up to the model's window. */
function logContexts(max: number): number[] {
  const out = new Set<number>();
  for (let c = Math.min(1024, max); c < max; c *= Math.SQRT2) out.add(Math.round(c));
  out.add(max);
  return [...out].sort((a, b) => a - b);
}

/**
 * One sentence a reader can act on: the smallest GPU people own that runs the model (with its longest context), and
 * how many datacenter GPUs give the whole window ("fits one RTX 4090 at 42k tokens in vLLM; 2 × A100 80GB for 128k").
 */
function verdictOf(model: ModelSpec, engine: PlacementEngine, fits: DeviceFitRow[], devices: ReportDevice[]): string {
  const floor = Math.min(4096, model.maxContext);
  // The devices the engine is the default for (vLLM: CUDA and ROCm, MLX: Apple), else every device.
  const classOf = new Map(devices.map((d) => [d.id, d.deviceClass]));
  const home = fits.filter((f) => engine.defaultFor.includes(classOf.get(f.device)!));
  const pool = (home.length ? home : fits).sort((a, b) => a.memoryBytes - b.memoryBytes);
  const owned = pool.filter((f) => f.category === "nvidia-consumer" || f.category === "apple-silicon" || f.category === "amd-consumer");
  const one = owned.find((f) => f.maxContext >= floor) ?? pool.find((f) => f.maxContext >= floor);
  const parts = [one ? `fits one ${one.name} at ${tokensShort(one.maxContext)} tokens in ${engine.label}` : `fits no single catalog device at ${tokensShort(floor)} tokens in ${engine.label}`];
  if (!one || one.maxContext < model.maxContext) {
    // The fewest datacenter GPUs (tensor parallel) that hold the whole window.
    const dc = devices.find((d) => d.id === "a100-sxm4-80gb") ?? devices.find((d) => d.id === "h100-sxm-80gb");
    if (dc) {
      const dep = makeDeployment(model, { engine, context: model.maxContext });
      for (const tp of [1, 2, 4, 8]) {
        try {
          if (deviceCapacity(model, { ...dep, tp }, engine, dc).maxContext >= model.maxContext) {
            parts.push(`${tp} × ${dc.catalogName ?? dc.name} for ${tokensShort(model.maxContext)}`);
            break;
          }
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
        }
      }
      if (parts.length === 1) parts.push(`more than 8 × ${dc.catalogName ?? dc.name} for ${tokensShort(model.maxContext)}`);
    }
  }
  return parts.join("; ");
}

export function capacityReport(model: ModelSpec, devices: ReportDevice[], engines: readonly PlacementEngine[], engineId: string, evidence?: readonly EvidenceRowLite[]): CapacityReport {
  const engine = engines.find((e) => e.id === engineId);
  if (!engine) throw new InputError(`unknown engine ${engineId}`);
  const contexts = reportContexts(model);
  const native = nativeWeights(model);
  const known = new Set(weightSchemeNames());
  const schemes = [...new Set([native, ...REPORT_SCHEMES])].filter((w) => known.has(w));
  const layers: Record<string, number> = {};
  for (const l of model.layers) layers[l.kind] = (layers[l.kind] ?? 0) + 1;
  const curveContexts = logContexts(model.maxContext);
  const curves: CapacityReport["curves"] = [];
  const memory: SchemeRow[] = schemes.map((weights) => {
    const e = engines.find((x) => x.ownsWeights?.(weights)) ?? engine;
    const a = schemeApplies(model, weights);
    if (!a.applies) return { weights, engine: e.id, notApplicable: a.why, totalBytes: contexts.map(() => null) };
    try {
      const t = compilePlan(model, makeDeployment(model, { engine: e, weights, context: contexts[0] }), e);
      for (const context of curveContexts) curves.push({ weights, context, bytes: planTotals(t, context, 1).totalBytes });
      return { weights, engine: e.id, totalBytes: contexts.map((context) => planTotals(t, context, 1).totalBytes) };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return { weights, engine: e.id, notApplicable: err.message, totalBytes: contexts.map(() => null) };
    }
  });
  // Every device at the CLI's default context (the model's window), native weights, one sequence.
  const base = makeDeployment(model, { engine, context: model.maxContext });
  const fits = devices.map((d) => {
    const c = deviceCapacity(model, base, engine, d);
    return { device: d.id, name: d.catalogName ?? d.name, ...(d.category ? { category: d.category } : {}), memoryBytes: d.memoryBytes, maxContext: c.maxContext, kvCapacityTokens: c.kvCapacityTokens };
  });
  const baseTable = compilePlan(model, base, engine);
  const layerContext = Math.min(32768, model.maxContext);
  const p = planFrom(baseTable, layerContext, 1);
  const differ = new Set(p.layers.map((l) => `${l.kind}|${l.weightBytes}|${l.kvBytes}`)).size > 1;
  const cls = architectureClass(model);
  const ev = evidence ? evidenceErrorFor(evidence, engine.id, cls) : undefined;
  return {
    model: model.id,
    family: model.family,
    modelType: model.modelType,
    architectureClass: cls,
    maxContext: model.maxContext,
    layers,
    params: baseTable.params.rounded,
    engine: engine.id,
    verdict: verdictOf(model, engine, fits, devices),
    contexts,
    memory,
    curves,
    fits,
    ...(differ ? { layerRows: p.layers.map((l) => ({ layer: l.index, kind: l.kind, weightBytes: l.weightBytes, kvBytes: l.kvBytes })) } : {}),
    layerContext,
    ...(ev ? { evidence: ev } : {}),
  };
}
