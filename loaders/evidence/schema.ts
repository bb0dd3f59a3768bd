// The one format of data/evidence/cases/*.json: real engine figures, where they were read, and the settings
// hwledger predicts them for. data/evidence/README.md explains each field and how to add a case.
import { z } from "zod";

export const EVIDENCE_ENGINES = ["vllm", "llama.cpp", "mlx", "transformers", "ollama"] as const;
export type EvidenceEngine = (typeof EVIDENCE_ENGINES)[number];

/** Units as the source prints them; memory figures are compared in bytes, the rest as printed. */
export const UNIT_SCALE = { GiB: 2 ** 30, MiB: 2 ** 20, GB: 1e9, MB: 1e6, tokens: 1, cells: 1, x: 1, "t/s": 1 } as const;
export type Unit = keyof typeof UNIT_SCALE;

/** A figure as a reader sees it: memory in its printed unit, tokens with separators, concurrency as "x". */
export function formatFigure(value: number, unit: Unit): string {
  const scale = UNIT_SCALE[unit];
  if (scale > 1) return `${(value / scale).toFixed(unit === "GiB" || unit === "GB" ? 3 : 2)} ${unit}`;
  if (unit === "x") return `${value.toFixed(2)}x`;
  if (unit === "t/s") return `${value.toFixed(1)} t/s`;
  return `${Math.round(value).toLocaleString("en-US")} ${unit}`;
}

/**
 * What hwledger predicts for a figure (loaders/evidence/predict.ts maps each to the planner call):
 * vLLM start-up: weightsPerRank, kvBudget ("Available KV cache memory"), kvTokens ("GPU KV cache size"),
 * maxConcurrency, profilePeak, nonTorch; llama.cpp: kvCache (every cache), kvCacheBase / kvCacheSwa /
 * recurrentState (one printed line each), kvCells / kvCellsSwa, weights; MLX / transformers: peakMemory, peakAboveWeights;
 * speed: prefillTps, decodeTps; Ollama's own estimate (`msg=offload`): ollamaKv, ollamaGraphFull, ollamaGraphPartial.
 */
export const QUANTITIES = [
  "weightsPerRank", "kvBudget", "kvTokens", "maxConcurrency", "profilePeak", "nonTorch",
  "kvCache", "kvCacheBase", "kvCacheSwa", "recurrentState", "kvCells", "kvCellsSwa", "weights",
  "peakMemory", "peakAboveWeights", "prefillTps", "decodeTps",
  "ollamaKv", "ollamaGraphFull", "ollamaGraphPartial",
] as const;
export type Quantity = (typeof QUANTITIES)[number];

/** The engine parsers a figure can be read with (plugins/engine-*). */
export const PARSERS = ["vllm-log", "llamacpp-log", "mlx-log", "ollama-log"] as const;

const readSchema = z.union([
  // An engine's own log parser; `path` walks its result ("kvCaches.0.bytes"); several paths are summed.
  z.strictObject({ parser: z.enum(PARSERS), path: z.union([z.string(), z.array(z.string()).min(1)]), printed: z.string().optional() }),
  // A pipe table (Markdown, or a pasted engine table): the row whose cells match `where`, the cell of `column`; the
  // first table after the line(s) `after` names (several: each found after the one before).
  z.strictObject({ table: z.strictObject({ after: z.union([z.string(), z.array(z.string()).min(1)]).optional(), where: z.record(z.string(), z.string()), column: z.string() }), match: z.string().optional() }),
  // An RST list-table (`* - first cell` / `  - next cell`): the row whose first cell is `row`, the cell at `column` (0-based).
  z.strictObject({ listTable: z.strictObject({ row: z.string(), column: z.number().int().nonnegative() }), match: z.string().optional() }),
  // A regular expression over the log whose first group is the figure (`nth` match, 1-based).
  z.strictObject({ text: z.string(), nth: z.number().int().positive().optional() }),
]);
export type FigureRead = z.infer<typeof readSchema>;

const figureSchema = z.strictObject({
  /** The figure's name exactly as the source prints it. */
  name: z.string().min(1),
  quantity: z.enum(QUANTITIES),
  unit: z.enum(Object.keys(UNIT_SCALE) as [Unit, ...Unit[]]),
  read: readSchema,
  /** Pipeline stage or worker the figure belongs to, when the log prints one per stage. */
  stage: z.number().int().nonnegative().optional(),
  /** Why hwledger makes no prediction for this figure (it is still checked against the log). */
  noPrediction: z.string().optional(),
  /** The figure covers one worker of several (so a prediction from it is not exact). */
  oneWorkerOfSeveral: z.boolean().optional(),
  /**
   * A speed figure's test, where it differs from the case's settings: llama-bench ppN = prompt N, gen 0; tgN = prompt
   * 0, gen N; `@dD` = depth D tokens already in the cache.
   */
  test: z.strictObject({ prompt: z.number().int().nonnegative(), gen: z.number().int().nonnegative(), depth: z.number().int().positive().optional() }).optional(),
  /** Reported and predicted, but left out of the error summaries, and why (a data-quality flag decided before any fit). */
  notHeld: z.string().min(1).optional(),
  note: z.string().optional(),
});
export type EvidenceFigure = z.infer<typeof figureSchema>;

const modelSchema = z
  .strictObject({
    /** What the run used (e.g. "Qwen2-7B-Instruct", an AWQ checkpoint). */
    name: z.string().min(1),
    /** A catalog id (loaders/catalog) whose config.json stands for the run's model. */
    catalog: z.string().optional(),
    /** A config.json under data/evidence/configs/. */
    configFile: z.string().optional(),
    /** Inline config.json fields. */
    config: z.record(z.string(), z.unknown()).optional(),
    /** GGUF metadata: "log" reads the scalars the llama.cpp log prints; an object gives them inline. */
    gguf: z.union([z.literal("log"), z.record(z.string(), z.unknown())]).optional(),
    /** GGUF keys that the log truncates, read elsewhere in it (say where in `note`). */
    ggufOverrides: z.record(z.string(), z.unknown()).optional(),
    /** The same model as another case. */
    sameAs: z.string().optional(),
    /** Where an inline config or layout comes from, and how the stand-in differs from the run's checkpoint. */
    source: z.string().optional(),
    note: z.string().optional(),
  })
  .refine((m) => [m.catalog, m.configFile, m.config, m.gguf, m.sameAs].filter((x) => x !== undefined).length <= 1, { message: "give at most one of catalog, configFile, config, gguf, sameAs" });

const settingsSchema = z.strictObject({
  /** hwledger's flags: --context (tokens per sequence), --seqs, --tp, --pp, --weights, --kv-dtype. */
  context: z.number().int().positive(),
  seqs: z.number().int().positive().optional(),
  tp: z.number().int().positive().optional(),
  pp: z.number().int().positive().optional(),
  weights: z.string().optional(),
  kvDtype: z.string().optional(),
  /** Engine options as hwledger names them (EngineOptions: maxNumBatchedTokens, sampler, kvUnified, …). */
  options: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
  /** `fit --gpu-memory-gib` / `--gpu-memory-utilization`: the GPU as torch sees it, for the start-up replay. */
  gpuMemoryGiB: z.number().positive().optional(),
  gpuMemoryUtilization: z.number().positive().max(1).optional(),
  /** `speed --device`, `--prompt`, `--gen`; prompt and generated tokens of a measured run. */
  device: z.string().optional(),
  prompt: z.number().int().nonnegative().optional(),
  gen: z.number().int().nonnegative().optional(),
  /** Terms of engine releases older than the profile's rules (loaders/evidence/release-terms.ts). */
  releaseTerms: z.array(z.string()).optional(),
});
export type EvidenceSettings = z.infer<typeof settingsSchema>;

export const caseSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
    /** derived: a rule or constant of hwledger was derived or checked on this case (say which); held-out: nothing was. */
    set: z.enum(["derived", "held-out"]),
    derivedFor: z.array(z.string().min(1)).optional(),
    engine: z.enum(EVIDENCE_ENGINES),
    /** Engine release as the source states it ("0.10.1.1", "b7585", "mlx-lm 0.31.3"), or what is known of it. */
    release: z.string().min(1),
    source: z.strictObject({
      /** https URL, or owner/repo#number. */
      url: z.string().regex(/^(https:\/\/|[\w.-]+\/[\w.-]+#\d+$)/),
      /** What the source is (a start-up log, a PR description's table, …). */
      what: z.string().min(1),
      /** When the figures were captured or published, as precisely as known. */
      captured: z.string().min(1),
      /** The verbatim output under data/evidence/logs/. */
      log: z.string().regex(/^[\w.+-]+$/),
    }),
    hardware: z.strictObject({ name: z.string().min(1), count: z.number().int().positive().optional() }),
    model: modelSchema,
    settings: settingsSchema,
    /** Attention, FFN and setup features the case exercises (for coverage checks and the page). */
    tags: z.array(z.string()).default([]),
    figures: z.array(figureSchema).min(1),
    /** Routes whose error is reported but not held to the engine's goal, and why. */
    notHeld: z.strictObject({ from: z.array(z.string()).min(1), why: z.string().min(1) }).optional(),
    notes: z.string().optional(),
  })
  .refine((c) => (c.set === "derived") === (c.derivedFor !== undefined && c.derivedFor.length > 0), { message: "a derived case names what was derived from it (derivedFor); a held-out case names nothing" });
export type EvidenceCase = z.infer<typeof caseSchema>;

/** One tolerance band of an engine's evidence file (prediction / reported − 1 within [−below, +above]). */
const toleranceSchema = z.strictObject({ below: z.number().nonnegative(), above: z.number().nonnegative(), basis: z.string().min(1) });
export type Tolerance = z.infer<typeof toleranceSchema>;

export const caseFileSchema = z.strictObject({
  engine: z.enum(EVIDENCE_ENGINES),
  /** What the figures are, and what every case of this file shares. */
  about: z.string().min(1),
  tolerances: z.record(z.string(), toleranceSchema).default({}),
  cases: z.array(caseSchema).min(1),
});
export type EvidenceFile = z.infer<typeof caseFileSchema>;
