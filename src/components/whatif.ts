// What-if logic shared by the pages: URL state, figures from lib/calc (the same functions as `hwledger plan`),
// per-layer cells, KV growth series and copy-ready launch commands (the engine plugins', as `hwledger export`). No
// DOM here, so Node tests can use it too. A what-if compiles its plan once per model, engine and deployment shape
// (planTable) and evaluates contexts and sequence counts from it.
import { InputError, compilePlan, deviceCapacity, makeDeployment, modelFromHfConfig, parseConfigText, planFrom, planTotals, schemeApplies, weightScheme } from "../lib/calc/index.js";
import type { Deployment, DeviceCapacity, DeviceClass, EngineOptions, MemoryPlan, ModelSpec, PlanTable } from "../lib/calc/index.js";
import { draftBuffers } from "../plugins/engine-llamacpp/draft.js";
import { DEFAULT_ENGINE, engine, exportCommands as engineCommands, parseEngine } from "../plugins/engines.js";

export const GIB = 1024 ** 3;

/** A catalog model as the catalog data loader prints it. */
export interface CatalogModel {
  id: string;
  slug: string;
  aliases: string[];
  source: string;
  note?: string;
  file: string;
  config: Record<string, unknown>;
}

/**
 * A catalog device as an engine sees it (src/data/engine-devices.json: lib/fleet/devices.ts engineDevice, what every
 * command's --device reads): `memoryBytes` is the total its runtime reports, `name` the driver's (vLLM's defaults test
 * it), `catalogName` the name to show.
 */
export interface DeviceLite {
  id: string;
  name: string;
  catalogName: string;
  category: string;
  deviceClass: DeviceClass;
  memoryBytes: number;
  computeUnits?: number;
  bandwidthBytesPerSecond: number | null;
}

export interface WhatIfState {
  /** Catalog slug, or "" when a pasted config is used. */
  model: string;
  /** Pasted config.json text ("" = none). */
  config: string;
  engine: string;
  /** "" = the checkpoint's native weights. */
  weights: string;
  kv: string;
  context: number;
  seqs: number;
  tp: number;
  devices: string[];
  /** llama.cpp -ngl (absent: all layers) and -fa (absent: auto, on). */
  gpuLayers?: number;
  flashAttn?: boolean;
  /** llama.cpp --mmproj: the projector file's size in MiB, and --no-mmproj-offload (projector in host RAM). */
  projectorMiB?: number;
  projectorOnHost?: boolean;
  /** llama.cpp -md: a catalog model as the draft (its slug). */
  draft?: string;
}

/** The model a what-if opens with: a current, widely run one from the catalog. */
export const DEFAULT_MODEL = "llama-3.1-8b-instruct";

export const DEFAULTS: Omit<WhatIfState, "model"> = { config: "", engine: DEFAULT_ENGINE, weights: "", kv: "f16", context: 8192, seqs: 1, tp: 1, devices: ["h100-sxm-80gb"] };

const b64 = {
  // UTF-8 safe base64url, so a pasted config survives the URL.
  enc: (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
  dec: (s: string) => new TextDecoder().decode(Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))),
};

function posInt(v: string | null, fallback: number): number {
  const n = v === null ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Reads the state from a query string; missing or malformed fields fall back to defaults. */
export function decodeState(search: string, defaultModel: string): WhatIfState {
  const q = new URLSearchParams(search);
  let config = "";
  const cfg = q.get("cfg");
  if (cfg) {
    try {
      config = b64.dec(cfg);
    } catch {
      config = "";
    }
  }
  const devices = (q.get("dev") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return {
    model: config ? "" : (q.get("model") ?? defaultModel),
    config,
    engine: q.get("engine") ?? DEFAULTS.engine,
    weights: q.get("weights") ?? DEFAULTS.weights,
    kv: q.get("kv") ?? DEFAULTS.kv,
    context: posInt(q.get("ctx"), DEFAULTS.context),
    seqs: posInt(q.get("seqs"), DEFAULTS.seqs),
    tp: posInt(q.get("tp"), DEFAULTS.tp),
    devices: devices.length ? devices : DEFAULTS.devices,
    ...(q.get("ngl") !== null && Number.isInteger(Number(q.get("ngl"))) && Number(q.get("ngl")) >= 0 ? { gpuLayers: Number(q.get("ngl")) } : {}),
    ...(q.get("fa") === "off" ? { flashAttn: false } : {}),
    ...(Number(q.get("mmproj")) > 0 ? { projectorMiB: Number(q.get("mmproj")) } : {}),
    ...(q.get("mmproj_host") === "1" ? { projectorOnHost: true } : {}),
    ...(q.get("draft") ? { draft: q.get("draft")! } : {}),
  };
}

/** What the page knows: the values each URL parameter may take. */
export interface StateChoices {
  models: string[];
  engines: readonly string[];
  weights: string[];
  kvs: readonly string[];
  devices: string[];
  /** The model used when the URL's is unknown. */
  defaultModel: string;
}

/**
 * One line per URL parameter the page cannot use, naming the value it used instead, e.g.
 * `engine "bogus" is not an engine (vllm, llama.cpp, mlx, transformers): using vllm`. Empty when all is well.
 */
export function stateProblems(search: string, c: StateChoices): string[] {
  const q = new URLSearchParams(search);
  const out: string[] = [];
  const oneOf = (key: string, label: string, allowed: readonly string[], used: string, list = true) => {
    const v = q.get(key);
    if (v !== null && !allowed.includes(v)) out.push(`${label} "${v}" is not ${list ? `one of ${allowed.filter(Boolean).join(", ")}` : "in the catalog"}: using ${used || "the default"}`);
  };
  if (!q.get("cfg")) oneOf("model", "model", c.models, c.defaultModel, false);
  oneOf("engine", "engine", c.engines, DEFAULTS.engine);
  oneOf("weights", "weights", c.weights, "the native weights");
  oneOf("kv", "KV dtype", c.kvs, DEFAULTS.kv);
  for (const [key, label, fallback] of [["ctx", "context", DEFAULTS.context], ["seqs", "sequences", DEFAULTS.seqs], ["tp", "GPUs (tp)", DEFAULTS.tp]] as const) {
    const v = q.get(key);
    if (v !== null && !(Number.isInteger(Number(v)) && Number(v) > 0)) out.push(`${label} "${v}" is not a whole number ≥ 1: using ${fallback.toLocaleString("en-US")}`);
  }
  const unknown = (q.get("dev") ?? "").split(",").map((s) => s.trim()).filter((d) => d && !c.devices.includes(d));
  if (unknown.length) out.push(`device${unknown.length > 1 ? "s" : ""} ${unknown.map((d) => `"${d}"`).join(", ")} not in the device catalog: left out`);
  oneOf("draft", "draft model", c.models, "no draft", false);
  const mmproj = q.get("mmproj");
  if (mmproj !== null && !(Number(mmproj) > 0)) out.push(`projector size "${mmproj}" is not a number of MiB > 0: using no projector`);
  return out;
}

export function encodeState(s: WhatIfState): string {
  const q = new URLSearchParams();
  if (s.config) q.set("cfg", b64.enc(s.config));
  else q.set("model", s.model);
  q.set("engine", s.engine);
  if (s.weights) q.set("weights", s.weights);
  q.set("kv", s.kv);
  q.set("ctx", String(s.context));
  q.set("seqs", String(s.seqs));
  q.set("tp", String(s.tp));
  q.set("dev", s.devices.join(","));
  if (s.gpuLayers !== undefined) q.set("ngl", String(s.gpuLayers));
  if (s.flashAttn === false) q.set("fa", "off");
  if (s.projectorMiB) q.set("mmproj", String(s.projectorMiB));
  if (s.projectorMiB && s.projectorOnHost) q.set("mmproj_host", "1");
  if (s.draft) q.set("draft", s.draft);
  return "?" + q.toString();
}

/** Parses pasted config.json text into a model; every problem is one clear InputError line. */
export function modelFromText(text: string): { model: ModelSpec; config: Record<string, unknown> } {
  const config = parseConfigText(text, "pasted text");
  const id = typeof config._name_or_path === "string" && config._name_or_path ? config._name_or_path : "pasted config";
  return { model: modelFromHfConfig(config, id), config };
}

/** The message to show for an error: InputError text as is, anything else prefixed so it is not mistaken for advice. */
export function errorMessage(e: unknown): string {
  if (e instanceof InputError) return e.message;
  return `unexpected error: ${(e as Error)?.message ?? String(e)}`;
}

export function deploymentFor(model: ModelSpec, s: WhatIfState, draftModel?: ModelSpec): Deployment {
  const engineId = parseEngine(s.engine);
  // llama.cpp's -ngl, -fa, --mmproj and -md (the same options as `hwledger plan --gpu-layers --flash-attn --mmproj --draft`).
  const options: EngineOptions = engineId.id === "llama.cpp" ? {
    ...(s.gpuLayers !== undefined ? { gpuLayers: s.gpuLayers } : {}),
    ...(s.flashAttn === false ? { flashAttention: false } : {}),
    ...(s.projectorMiB ? { projector: { bytes: Math.round(s.projectorMiB * 1024 * 1024), offload: !s.projectorOnHost } } : {}),
  } : {};
  if (engineId.id === "llama.cpp" && draftModel) {
    // The draft in the target's weight type where that applies to it, else its own.
    const weights = s.weights && schemeApplies(draftModel, s.weights).applies ? s.weights : undefined;
    options.draft = draftBuffers(draftModel, { context: s.context, seqs: s.seqs, options }, engineId, weights);
  }
  return makeDeployment(model, { engine: engineId, weights: s.weights || undefined, kvDtype: s.kv, context: s.context, seqs: s.seqs, tp: s.tp, ...(Object.keys(options).length ? { options } : {}) });
}

/** The compiled plan of a deployment (its context and sequence count are evaluated later). */
export function planTable(model: ModelSpec, dep: Deployment): PlanTable {
  return compilePlan(model, dep, engine(dep.engine));
}

export interface DeviceFit {
  device: DeviceLite;
  /** Per-rank bytes the plan needs. */
  needBytes: number;
  usedFraction: number;
  free: number;
  /** The engine's answer on this device (lib/calc deviceCapacity, as `hwledger fit --device`). */
  capacity: DeviceCapacity;
}

/** The engine's capacity answer on each device, for a deployment (`hwledger fit --device <id> --json` per device). */
export function capacityByDevice(model: ModelSpec, dep: Deployment, devices: DeviceLite[]): Map<string, DeviceCapacity> {
  const e = engine(dep.engine);
  return new Map(devices.map((d) => [d.id, deviceCapacity(model, dep, e, { id: d.id, name: d.name, deviceClass: d.deviceClass, memoryBytes: d.memoryBytes, ...(d.computeUnits ? { computeUnits: d.computeUnits } : {}) })]));
}

export interface WhatIf {
  model: ModelSpec;
  dep: Deployment;
  plan: MemoryPlan;
  /** Per-rank bytes (the budget every device must meet under tp). */
  perRank: { weightsBytes: number; kvCacheBytes: number; activationBytes: number; overheadBytes: number; totalBytes: number };
  fits: DeviceFit[];
}

/**
 * Figures for one state. `fixed` holds what the sliders do not change, computed once per model/engine/device change
 * (the page keeps it): the compiled plan.
 */
/** What the page computes once per model, engine and shape: the compiled plan, and the draft model if one is chosen. */
export interface WhatIfFixed {
  dep?: Deployment;
  table?: PlanTable;
  draftModel?: ModelSpec;
}

export function computeWhatIf(model: ModelSpec, s: WhatIfState, devices: DeviceLite[], fixed: WhatIfFixed = {}): WhatIf {
  return withCapacity(planWhatIf(model, s, devices, fixed));
}

/** A what-if before the engine's per-device fit: the plan's figures, each device's use of its memory. */
export interface PlannedWhatIf extends Omit<WhatIf, "fits"> {
  fits: Array<Omit<DeviceFit, "capacity">>;
}

/**
 * The plan part of computeWhatIf: arithmetic on the compiled plan (what a slider move redraws at once). The engine's
 * own fit per device (withCapacity) runs its start-up accounting and follows a frame later on the page.
 */
export function planWhatIf(model: ModelSpec, s: WhatIfState, devices: DeviceLite[], fixed: WhatIfFixed = {}): PlannedWhatIf {
  // With the page's compiled deployment, a slider move is arithmetic: only the context changes (validated once, when
  // the deployment was made; the slider cannot leave the model's window). A draft model's KV follows the context, so
  // with a draft each move plans anew.
  const compiled = fixed.dep && fixed.table && !fixed.draftModel;
  const dep = compiled ? { ...fixed.dep!, context: s.context, seqs: s.seqs } : deploymentFor(model, s, fixed.draftModel);
  const t = compiled ? fixed.table! : planTable(model, dep);
  const p = planFrom(t, dep.context, dep.seqs);
  const ranks = dep.tp * dep.pp;
  const m = p.memory;
  const perRank = {
    weightsBytes: m.weightsBytes / ranks,
    kvCacheBytes: m.kvCacheBytes / ranks,
    activationBytes: m.activationBytes / ranks,
    overheadBytes: m.overheadBytes / ranks,
    totalBytes: m.totalBytes / ranks,
  };
  // With llama.cpp layers in host RAM, a projector or a draft, a GPU holds its own buffers (the plan's per-device rows).
  const gpuRows = s.gpuLayers !== undefined || s.projectorMiB || s.draft ? p.buffers?.filter((b) => b.device !== "CPU") : undefined;
  const need = gpuRows ? Math.max(0, ...gpuRows.map((b) => b.modelBytes + b.kvBytes + b.computeBytes + b.outputBytes + b.projectorBytes + b.draftBytes)) : perRank.totalBytes;
  const fits = devices.map((device) => ({
    device,
    needBytes: need,
    usedFraction: need / device.memoryBytes,
    free: device.memoryBytes - need,
  }));
  return { model, dep, plan: p, perRank, fits };
}

/** Adds the engine's capacity answer on each device (lib/calc deviceCapacity, as `hwledger fit --device`). */
export function withCapacity(w: PlannedWhatIf): WhatIf {
  const caps = capacityByDevice(w.model, w.dep, w.fits.map((f) => f.device));
  return { ...w, fits: w.fits.map((f) => ({ ...f, capacity: caps.get(f.device.id)! })) };
}

/** Gauge colour: green up to 80% of device memory, yellow up to 95%, red above. */
export function gaugeLevel(fraction: number): "green" | "yellow" | "red" {
  return fraction <= 0.8 ? "green" : fraction <= 0.95 ? "yellow" : "red";
}

export interface LayerCell {
  layer: number;
  kind: string;
  component: string;
  bytes: number;
}

/** Per-layer weight bytes by tensor role (experts, attention, SSM, …): fixed for a model, engine and weights. */
export function layerWeightCells(model: ModelSpec, dep: Deployment): LayerCell[] {
  const bytesOf = weightScheme(dep.weights).bytesFor(model);
  const cells: LayerCell[] = [];
  for (const l of model.layers) {
    const byRole = new Map<string, number>();
    for (const t of l.tensors) byRole.set(t.role, (byRole.get(t.role) ?? 0) + bytesOf(t, l.index));
    for (const [role, bytes] of byRole) cells.push({ layer: l.index, kind: l.kind, component: `weights: ${role}`, bytes });
  }
  return cells;
}

/** Per-layer × component bytes: the layer's weights (computed once per model: `weights`) and its cache at this context. */
export function layerCells(w: WhatIf, weights = layerWeightCells(w.model, w.dep)): LayerCell[] {
  const cells = weights.slice();
  w.model.layers.forEach((l, i) => cells.push({ layer: l.index, kind: l.kind, component: `cache: ${l.cache.kind}`, bytes: w.plan.layers[i]?.kvBytes ?? 0 }));
  return cells;
}

/**
 * The shortest context the charts draw: below a few hundred tokens every memory curve is flat (weights dominate and
 * no one serves a model at 50 tokens), so a log axis from 1 wastes half its width on nothing.
 */
export const CHART_MIN_CONTEXT = 512;

/** Log-spaced contexts from `min` (CHART_MIN_CONTEXT, or max when smaller) to max (inclusive), ~n points, integers, ascending and unique. */
export function logContexts(max: number, n = 48, min = CHART_MIN_CONTEXT): number[] {
  const lo = Math.max(1, Math.min(min, max));
  const out = new Set<number>();
  for (let i = 0; i <= n; i++) out.add(Math.max(1, Math.round(Math.exp(Math.log(lo) + ((Math.log(max) - Math.log(lo)) * i) / n))));
  return [...out].sort((a, b) => a - b);
}

/** Per-rank KV cache and total against context (chart "KV growth"). */
export function kvGrowth(model: ModelSpec, dep: Deployment, max: number, table = planTable(model, dep)): Array<{ context: number; series: string; bytes: number }> {
  const ranks = dep.tp * dep.pp;
  const rows: Array<{ context: number; series: string; bytes: number }> = [];
  for (const context of logContexts(max)) {
    const m = planTotals(table, context, dep.seqs);
    rows.push({ context, series: "KV cache", bytes: m.kvCacheBytes / ranks });
    rows.push({ context, series: "total", bytes: m.totalBytes / ranks });
  }
  return rows;
}

/** Copy-ready commands that reproduce the plan in each engine: the engine plugins' own, as `hwledger export` prints them. */
export function exportCommands(model: ModelSpec, dep: Deployment): Array<{ engine: string; command: string; note?: string }> {
  return engineCommands(model.id, dep).commands.map((c) => ({ engine: c.engine, command: c.command, ...(c.note ? { note: c.note } : {}) }));
}

// One formatter for CLI and pages.
export { formatBytes, formatCount } from "../lib/calc/index.js";

/** One line on how a model attends and caches: "32 × full (GQA 8/32 KV heads)", "61 × MLA", "30 mamba2 + 6 full". */
export function architectureLabel(model: ModelSpec): string {
  const counts = new Map<string, number>();
  for (const l of model.layers) {
    const c = l.cache;
    let k: string;
    if (c.kind === "full") k = c.nKvHeads === model.nHeads ? "full MHA" : c.nKvHeads === 1 ? "full MQA" : `full GQA ${c.nKvHeads}/${model.nHeads}`;
    else if (c.kind === "sliding") k = `sliding ${c.window}`;
    else if (c.kind === "chunked") k = `chunked ${c.chunk}`;
    else if (c.kind === "recurrent") k = c.variant;
    else k = c.kind;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const moe = model.layers.find((l) => l.moe)?.moe;
  const parts = [...counts].map(([k, n]) => `${n} × ${k}`);
  return parts.join(" + ") + (moe ? `, MoE ${moe.activeExperts}/${moe.experts} experts${moe.sharedExperts ? ` + ${moe.sharedExperts} shared` : ""}` : "");
}
