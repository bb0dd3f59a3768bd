// The engine plugin contract. An engine is one folder, plugins/engine-<name>/, whose index.ts exports `manifest`: an
// object with everything hwledger needs of that engine — its memory rules (lib/calc/engine.ts EngineModel: compile
// a model and deployment shape into a table, its own `fit`, speed efficiencies, default settings), its placement facts
// (lib/fleet/engine.ts PlacementEngine: usable memory, devices and weights it serves, pipeline order and split
// commands), its export commands, and how `hwledger run` launches it and reads its log. plugins/engines.ts lists the
// engines; nothing outside plugins/engine-* asks an engine's name.
import { z } from "zod";
import type { Deployment, ModelSpec } from "../lib/calc/index.js";
import type { PlacementEngine } from "../lib/fleet/engine.js";
import { base, fn } from "./manifest.js";

/** What a run measured, from the engine's own log (integer bytes, finite rates). */
export interface Actual {
  weightsBytes?: number;
  kvCacheBytes?: number;
  computeBytes?: number;
  promptTokensPerSecond?: number;
  decodeTokensPerSecond?: number;
}

/** A copy-ready launch command reproducing a plan (`hwledger export`, the /what-if page). */
export interface ExportedCommand {
  /** The engine (or front-end, e.g. Ollama) the command starts. */
  engine: string;
  argv: string[];
  /** Shell-quoted, for copying. */
  command: string;
  note?: string;
  /** A file the command reads (an Ollama Modelfile), to write beside it. */
  file?: { name: string; text: string };
}

export interface ExportOptions {
  /** The GGUF file a GGUF engine loads (default: a placeholder named after the model and weights). */
  gguf?: string;
}

/** What the launcher knows when it builds the engine's command line. */
export interface LaunchInputs {
  /** What the engine loads: a GGUF path, or an HF id / folder. */
  modelRef: string;
  model: ModelSpec;
  dep: Deployment;
  /** Address a server listens on (the launcher queries it there). */
  listen: string;
  port: number;
  /** The user's prompt, if any (each engine says what it sends otherwise). */
  prompt?: string;
  promptTokens?: number;
  gen: number;
  /** CPU threads the engine may use. */
  threads: number;
}

/** How `hwledger run` starts the engine. Pure: argument arrays only; the launcher finds, spawns and stops it. */
export interface LaunchSpec {
  /** The executable looked up on the host's PATH (or given by the user). */
  binary: string;
  /** "gguf": the engine loads a GGUF file (run needs --gguf); "hf": an HF id or folder. */
  modelFile: "gguf" | "hf";
  /** A server is queried once and stopped; a one-shot command exits by itself. */
  mode: "server" | "oneshot";
  /** argv after the binary. */
  args(i: LaunchInputs): string[];
  /** The one request a server gets (path and JSON body). */
  request?(i: LaunchInputs): { path: string; json: unknown };
  /** When the binary is missing on this machine: a Node script in the plugin folder, run one-shot with these args. */
  embedded?: { script: string; args(i: LaunchInputs): string[] };
  /** What the run measured, read from the engine's log (only what the log showed). */
  actuals(log: string): { [K in keyof Actual]?: unknown };
}

export interface EnginePlugin extends PlacementEngine {
  kind: "engine";
  /** The folder name (engine-vllm, …). */
  name: string;
  version: string;
  description: string;
  /** Other names --engine accepts (llamacpp, mlx-lm, …). */
  aliases: readonly string[];
  /** Commands reproducing a plan in this engine (throws InputError when it cannot run it). */
  exportCommands(modelId: string, dep: Deployment, opts?: ExportOptions): ExportedCommand[];
  launch?: LaunchSpec;
}

const launchSchema = z.object({
  binary: z.string().min(1),
  modelFile: z.enum(["gguf", "hf"]),
  mode: z.enum(["server", "oneshot"]),
  args: fn("launch.args"),
  request: fn("launch.request").optional(),
  embedded: z.object({ script: z.string().regex(/^[\w.-]+\.m?js$/), args: fn("launch.embedded.args") }).optional(),
  actuals: fn("launch.actuals"),
});

export const enginePluginSchema = z.looseObject({
  kind: z.literal("engine"),
  ...base,
  name: z.string().regex(/^engine-[a-z0-9-]+$/, "the folder name: engine-<name>"),
  id: z.string().min(1),
  label: z.string().min(1),
  aliases: z.array(z.string()),
  loadsVision: z.boolean(),
  defaults: z.object({ kvDtype: z.string() }),
  compile: fn("compile"),
  checkDeployment: fn("checkDeployment").optional(),
  contextRefusal: fn("contextRefusal").optional(),
  fit: fn("fit").optional(),
  speed: z.object({ kernels: fn("speed.kernels") }),
  usableBytes: fn("usableBytes"),
  defaultFor: z.array(z.enum(["cuda", "rocm", "metal", "cpu", "other"])),
  ownsWeights: fn("ownsWeights").optional(),
  pipelineOrder: fn("pipelineOrder"),
  embedding: z.union([z.object({ home: z.literal("first-stage") }), z.object({ home: z.literal("host"), basis: z.string() })]),
  pipelineCommands: z.object({ key: z.string(), build: fn("pipelineCommands.build") }).optional(),
  offload: z.object({ fit: fn("offload.fit"), segments: fn("offload.segments") }).optional(),
  exportCommands: fn("exportCommands"),
  launch: launchSchema.optional(),
});

/** Checks an engine plugin against the contract; a broken one is named in one line. */
export function validateEngine<E extends EnginePlugin>(e: E): E {
  const r = enginePluginSchema.safeParse(e);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new Error(`engine plugin ${String((e as { name?: unknown })?.name ?? "?")}: ${first.path.join(".") || "(root)"}: ${first.message}`);
  }
  return e;
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** An exported command from its argument array (shell-quoted for copying). */
export function exported(engine: string, argv: string[], note?: string): ExportedCommand {
  return { engine, argv, command: argv.map(quote).join(" "), ...(note ? { note } : {}) };
}
