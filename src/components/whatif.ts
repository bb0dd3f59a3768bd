// What-if logic shared by the pages: URL state, figures from lib/calc (the same functions as `hwledger plan`),
// per-layer cells, KV growth series and copy-ready launch commands. No DOM here, so Node tests can use it too.
import { InputError, makeDeployment, maxContext, modelFromHfConfig, parseConfigText, perRankBytes, plan, weightScheme } from "../lib/calc/index.js";
import type { Deployment, MemoryPlan, ModelSpec } from "../lib/calc/index.js";

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

/** A device as `hwledger devices --json` prints it (the fields the pages use). */
export interface DeviceLite {
  id: string;
  name: string;
  category: string;
  memoryBytes: number;
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
}

export const DEFAULTS: Omit<WhatIfState, "model"> = { config: "", engine: "vllm", weights: "", kv: "f16", context: 8192, seqs: 1, tp: 1, devices: ["h100-sxm-80gb"] };

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
  };
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

export function deploymentFor(model: ModelSpec, s: WhatIfState): Deployment {
  return makeDeployment(model, { engine: s.engine, weights: s.weights || undefined, kvDtype: s.kv, context: s.context, seqs: s.seqs, tp: s.tp });
}

export interface DeviceFit {
  device: DeviceLite;
  /** Per-rank bytes the plan needs. */
  needBytes: number;
  usedFraction: number;
  free: number;
  /** Largest context per sequence that fits (0 = not even one token). */
  maxContext: number;
  /** Most parallel sequences at the chosen context (0 = none). */
  maxSeqs: number;
}

/** Most sequences at dep.context whose per-rank total fits `budget` (doubling, then bisection). */
export function maxSeqs(model: ModelSpec, dep: Deployment, budget: number, cap = 4096): number {
  const fits = (s: number) => perRankBytes(model, { ...dep, seqs: s }) <= budget;
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = 2;
  while (hi <= cap && fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  if (hi > cap) return cap;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
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
 * Figures for one state. `maxContexts` (device id -> max context) may be passed in: it does not depend on the
 * context slider, so the page computes it once per model/engine/device change rather than on every move.
 */
export function computeWhatIf(model: ModelSpec, s: WhatIfState, devices: DeviceLite[], maxContexts?: Map<string, number>): WhatIf {
  const dep = deploymentFor(model, s);
  const p = plan(model, dep);
  const ranks = dep.tp * dep.pp;
  const m = p.memory;
  const perRank = {
    weightsBytes: m.weightsBytes / ranks,
    kvCacheBytes: m.kvCacheBytes / ranks,
    activationBytes: m.activationBytes / ranks,
    overheadBytes: m.overheadBytes / ranks,
    totalBytes: m.totalBytes / ranks,
  };
  const fits = devices.map((device) => ({
    device,
    needBytes: perRank.totalBytes,
    usedFraction: perRank.totalBytes / device.memoryBytes,
    free: device.memoryBytes - perRank.totalBytes,
    maxContext: maxContexts?.get(device.id) ?? maxContext(model, dep, device.memoryBytes),
    maxSeqs: maxSeqs(model, dep, device.memoryBytes),
  }));
  return { model, dep, plan: p, perRank, fits };
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

/** Per-layer × component bytes: weights by tensor role (experts, attention, SSM, …) and the layer's cache. */
export function layerCells(w: WhatIf): LayerCell[] {
  const bytesOf = weightScheme(w.dep.weights).bytesFor(w.model);
  const cells: LayerCell[] = [];
  w.model.layers.forEach((l, i) => {
    const byRole = new Map<string, number>();
    for (const t of l.tensors) byRole.set(t.role, (byRole.get(t.role) ?? 0) + bytesOf(t, l.index));
    for (const [role, bytes] of byRole) cells.push({ layer: l.index, kind: l.kind, component: `weights: ${role}`, bytes });
    cells.push({ layer: l.index, kind: l.kind, component: `cache: ${l.cache.kind}`, bytes: w.plan.layers[i]?.kvBytes ?? 0 });
  });
  return cells;
}

/** Log-spaced contexts from 1 to max (inclusive), ~n points, integers, ascending and unique. */
export function logContexts(max: number, n = 48): number[] {
  const out = new Set<number>();
  for (let i = 0; i <= n; i++) out.add(Math.max(1, Math.round(Math.exp((Math.log(max) * i) / n))));
  return [...out].sort((a, b) => a - b);
}

/** Per-rank KV cache and total against context (chart "KV growth"). */
export function kvGrowth(model: ModelSpec, dep: Deployment, max: number): Array<{ context: number; series: string; bytes: number }> {
  const ranks = dep.tp * dep.pp;
  const rows: Array<{ context: number; series: string; bytes: number }> = [];
  for (const context of logContexts(max)) {
    const m = plan(model, { ...dep, context }, { layers: false }).memory;
    rows.push({ context, series: "KV cache", bytes: m.kvCacheBytes / ranks });
    rows.push({ context, series: "total", bytes: m.totalBytes / ranks });
  }
  return rows;
}

/** Copy-ready commands that reproduce the plan in each engine (flags from each engine's CLI). */
export function exportCommands(model: ModelSpec, dep: Deployment): Array<{ engine: string; command: string }> {
  const id = model.id;
  const out: Array<{ engine: string; command: string }> = [];
  // vLLM: vllm/engine/arg_utils.py EngineArgs (--max-model-len, --max-num-seqs, --tensor-parallel-size, --kv-cache-dtype).
  const vllmKv = dep.kvDtypeK.startsWith("fp8") ? ` --kv-cache-dtype ${dep.kvDtypeK}` : "";
  out.push({
    engine: "vLLM",
    command: `vllm serve ${id} --max-model-len ${dep.context} --max-num-seqs ${dep.seqs}${dep.tp > 1 ? ` --tensor-parallel-size ${dep.tp}` : ""}${dep.pp > 1 ? ` --pipeline-parallel-size ${dep.pp}` : ""}${vllmKv}`,
  });
  // llama.cpp: common/arg.cpp (-c is the total over -np slots; -ctk/-ctv take ggml cache types; a quantized V needs -fa).
  const GGML_KV = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"];
  if (GGML_KV.includes(dep.kvDtypeK) && GGML_KV.includes(dep.kvDtypeV)) {
    const kvFlags = `${dep.kvDtypeK !== "f16" ? ` -ctk ${dep.kvDtypeK}` : ""}${dep.kvDtypeV !== "f16" ? ` -ctv ${dep.kvDtypeV} -fa on` : ""}`;
    out.push({ engine: "llama.cpp", command: `llama-server -m ${id.split("/").pop()}-${dep.weights}.gguf -c ${dep.context * dep.seqs} -np ${dep.seqs} -ngl 999${kvFlags}` });
    // Ollama: num_ctx is per request slot; OLLAMA_NUM_PARALLEL slots each get it (server/sched.go).
    out.push({ engine: "Ollama", command: `OLLAMA_NUM_PARALLEL=${dep.seqs} ollama serve   # Modelfile: PARAMETER num_ctx ${dep.context}` });
  }
  // mlx-lm: mlx_lm/generate.py (--max-kv-size, --kv-bits); the server grows its cache as requests need.
  const mlxKv = dep.kvDtypeK === "q8" || dep.kvDtypeK === "q4" ? ` --kv-bits ${dep.kvDtypeK === "q8" ? 8 : 4}` : "";
  out.push({ engine: "MLX", command: `mlx_lm.server --model ${id}   # one-off: mlx_lm.generate --model ${id} --max-kv-size ${dep.context}${mlxKv}` });
  return out;
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

/** Largest context per device memory, computed once per distinct memory size (devices share sizes). */
export function maxContextByDevice(model: ModelSpec, dep: Deployment, devices: DeviceLite[]): Map<string, number> {
  const bySize = new Map<number, number>();
  const out = new Map<string, number>();
  for (const d of devices) {
    let v = bySize.get(d.memoryBytes);
    if (v === undefined) bySize.set(d.memoryBytes, (v = maxContext(model, dep, d.memoryBytes)));
    out.set(d.id, v);
  }
  return out;
}
