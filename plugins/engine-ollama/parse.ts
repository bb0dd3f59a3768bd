// Ollama's server and runner logs (slog text lines, with or without a journald or docker prefix): what Ollama
// estimated (`msg=offload` from llm/memory.go / llm/server.go, `msg="offload to cuda"` before 0.5.8), what it started
// (`msg="starting llama server" cmd=…`), and what the Ollama-engine runner allocated (ml/backend/ggml/ggml.go:
// "offloaded N/M layers to GPU", `msg="model weights" buffer=CUDA0 size=…`). llama.cpp lines in the same log are
// read by the llama.cpp plugin's parser.
import { parseLlamaCppLog } from "../engine-llamacpp/parse.js";
import type { OllamaEstimateInput } from "./estimate.js";
import { atLeast, ollamaMinimumMemory } from "./releases.js";

/** format.HumanBytes2 units (binary). */
const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** "11.1 GiB" → bytes (as printed: one decimal, so ±0.05 of the unit). */
export function humanBytes(s: string): number | undefined {
  const m = /^\s*([\d.]+)\s*(B|KiB|MiB|GiB|TiB)\s*$/.exec(s);
  return m ? Number(m[1]) * UNITS[m[2]] : undefined;
}

export interface OllamaOffload {
  library?: string;
  layersRequested: number;
  layersModel: number;
  layersOffload: number;
  layersSplit: number[];
  available: number[];
  gpuOverhead: number;
  requiredFull: number;
  requiredPartial: number;
  requiredKv: number;
  allocations: number[];
  weightsTotal: number;
  weightsRepeating: number;
  weightsNonrepeating: number;
  graphFull: number;
  graphPartial: number;
  projectorWeights?: number;
  projectorGraph?: number;
}

export interface OllamaRunnerCmd {
  ctxSize?: number;
  batchSize?: number;
  gpuLayers?: number;
  parallel?: number;
  tensorSplit?: number[];
  flashAttn: boolean;
  kvCacheType?: string;
  ollamaEngine: boolean;
}

export interface OllamaLogFacts {
  systemMemory?: { total: number; free: number; freeSwap: number };
  offload?: OllamaOffload;
  runner?: OllamaRunnerCmd;
  /** "offloaded 41/41 layers to GPU" (Ollama-engine runner). */
  offloaded?: { layers: number; of: number };
  /** msg="model weights" buffer=… size=… per buffer. */
  weightsByBuffer: Record<string, number>;
  flashAttentionEnabled: boolean;
  warnings: string[];
}

/** key=value and key="value with spaces" pairs of one slog line. */
function fields(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/([\w.]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g)) out[m[1]] = m[2] ?? m[3];
  return out;
}

const list = (s: string | undefined) => (s ? s.replace(/^\[|\]$/g, "").split(/\s+(?=\d)/).map((x) => humanBytes(x)!).filter((x) => x !== undefined) : []);
const num = (s: string | undefined) => (s === undefined || s === "" ? undefined : Number(s));

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

export function parseOllamaLog(log: string): OllamaLogFacts {
  const facts: OllamaLogFacts = { weightsByBuffer: {}, flashAttentionEnabled: false, warnings: [] };
  for (const line of log.split(/\r?\n/)) {
    if (!/level=\w+ source=/.test(line)) continue;
    const f = fields(line.slice(line.indexOf("time=")));
    const msg = f.msg ?? "";
    if (msg === "system memory") {
      facts.systemMemory = { total: humanBytes(f.total) ?? 0, free: humanBytes(f.free) ?? 0, freeSwap: humanBytes(f.free_swap) ?? 0 };
    } else if (msg === "offload" || msg.startsWith("offload to ")) {
      facts.offload = {
        library: f.library ?? msg.replace(/^offload to /, ""),
        layersRequested: Number(f["layers.requested"]),
        layersModel: Number(f["layers.model"]),
        layersOffload: Number(f["layers.offload"]),
        layersSplit: f["layers.split"] ? f["layers.split"].split(",").map(Number) : [],
        available: list(f["memory.available"]),
        gpuOverhead: humanBytes(f["memory.gpu_overhead"]) ?? 0,
        requiredFull: humanBytes(f["memory.required.full"]) ?? 0,
        requiredPartial: humanBytes(f["memory.required.partial"]) ?? 0,
        requiredKv: humanBytes(f["memory.required.kv"]) ?? 0,
        allocations: list(f["memory.required.allocations"]),
        weightsTotal: humanBytes(f["memory.weights.total"]) ?? 0,
        weightsRepeating: humanBytes(f["memory.weights.repeating"]) ?? 0,
        weightsNonrepeating: humanBytes(f["memory.weights.nonrepeating"]) ?? 0,
        graphFull: humanBytes(f["memory.graph.full"]) ?? 0,
        graphPartial: humanBytes(f["memory.graph.partial"]) ?? 0,
        ...(f["projector.weights"] ? { projectorWeights: humanBytes(f["projector.weights"]), projectorGraph: humanBytes(f["projector.graph"]) } : {}),
      };
    } else if (msg === "starting llama server" && f.cmd) {
      const argv = f.cmd.split(/\s+/);
      const split = flag(argv, "--tensor-split");
      facts.runner = {
        ctxSize: num(flag(argv, "--ctx-size")),
        batchSize: num(flag(argv, "--batch-size")),
        gpuLayers: num(flag(argv, "--n-gpu-layers")),
        parallel: num(flag(argv, "--parallel")),
        ...(split ? { tensorSplit: split.split(",").map(Number) } : {}),
        flashAttn: argv.includes("--flash-attn"),
        kvCacheType: flag(argv, "--kv-cache-type"),
        ollamaEngine: argv.includes("--ollama-engine"),
      };
    } else if (/^offloaded \d+\/\d+ layers to GPU$/.test(msg)) {
      const m = /(\d+)\/(\d+)/.exec(msg)!;
      facts.offloaded = { layers: Number(m[1]), of: Number(m[2]) };
    } else if (msg === "model weights" && f.buffer) {
      facts.weightsByBuffer[f.buffer] = (facts.weightsByBuffer[f.buffer] ?? 0) + (humanBytes(f.size) ?? 0);
    } else if (msg === "enabling flash attention") {
      facts.flashAttentionEnabled = true;
    } else if (/level=WARN/.test(line) && msg) {
      facts.warnings.push(msg);
    }
  }
  return facts;
}

/** What a run allocated, from its log: the Ollama runner's weight buffers, else llama.cpp's own lines. */
export function ollamaActuals(log: string) {
  const o = parseOllamaLog(log);
  const l = parseLlamaCppLog(log);
  const has = (x?: object) => x !== undefined && Object.keys(x).length > 0;
  const weights = has(o.weightsByBuffer) ? Object.values(o.weightsByBuffer).reduce((a, b) => a + b, 0) : has(l.weightsBytesByBuffer) ? l.weightsBytes : undefined;
  return {
    weightsBytes: weights === undefined ? undefined : Math.round(weights),
    kvCacheBytes: l.kvCaches?.length || l.recurrent?.length ? l.kvCacheBytes : undefined,
    computeBytes: has(l.computeBytesByBuffer) ? l.computeBytes : undefined,
    promptTokensPerSecond: l.promptTokensPerSecond,
    decodeTokensPerSecond: l.decodeTokensPerSecond,
  };
}

/**
 * The placement input a `msg=offload` line states, for the release that printed it: its free memory per GPU, KV,
 * graphs, projector and weights, every block taken as the average (the line prints sums only). What the weight
 * fields hold changed (llm/memory.go MemoryEstimate.LogValue): before 0.6.1 weights.total summed blk.N + KV/blocks
 * and repeating = total − output; from 0.6.1 (commit 033cec2) repeating is the blocks' weights alone.
 */
export function ollamaPlacementFromLog(o: OllamaOffload, release: string): OllamaEstimateInput {
  const blocks = o.layersModel - 1;
  const library = o.library === "metal" ? "metal" : o.library === "rocm" ? "rocm" : "cuda";
  const blockWeights = atLeast(release, "0.6.1") ? o.weightsRepeating : o.weightsTotal - o.requiredKv;
  return {
    gpus: o.available.map((freeBytes) => ({ freeBytes, minimumBytes: ollamaMinimumMemory(library) })),
    library,
    layerWeights: Array.from({ length: blocks }, () => blockWeights / blocks),
    kvPerLayer: Array.from({ length: blocks }, () => o.requiredKv / blocks),
    outputBytes: o.weightsNonrepeating,
    projectorWeights: o.projectorWeights,
    projectorGraph: o.projectorGraph,
    graphPartial: o.graphPartial,
    graphFull: o.graphFull,
    overheadBytes: o.gpuOverhead,
    numGpu: o.layersRequested,
    release,
  };
}
