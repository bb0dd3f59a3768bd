// The engines hwledger knows: one line per plugins/engine-* folder, imported statically (no registration by side
// effect). Pages, the CLI and the launcher resolve --engine here and hand the engine to lib/calc and lib/fleet.
import { InputError } from "../lib/calc/index.js";
import type { Deployment } from "../lib/calc/index.js";
import { validateEngine } from "./engine-contract.js";
import type { EnginePlugin, ExportedCommand } from "./engine-contract.js";
import { manifest as llamacpp } from "./engine-llamacpp/index.js";
import { manifest as mlx } from "./engine-mlx/index.js";
import { manifest as ollama } from "./engine-ollama/index.js";
import { manifest as transformers } from "./engine-transformers/index.js";
import { manifest as vllm } from "./engine-vllm/index.js";

export interface EngineRegistry {
  /** Every engine, in the order the CLI and pages list them. */
  ENGINES: readonly EnginePlugin[];
  ENGINE_IDS: readonly string[];
  /** The engine with this id (InputError naming the known ones otherwise). */
  engine(id: string): EnginePlugin;
  /** --engine as the user typed it: an id or one of an engine's aliases, any case. */
  parseEngine(name: string): EnginePlugin;
}

/** A registry over a list of engine plugins (each checked against the contract). */
export function makeEngineRegistry(plugins: readonly EnginePlugin[]): EngineRegistry {
  const ENGINES = plugins.map(validateEngine);
  const ENGINE_IDS = ENGINES.map((e) => e.id);
  const byName = new Map<string, EnginePlugin>();
  for (const e of ENGINES) for (const n of [e.id, ...e.aliases]) byName.set(n.toLowerCase(), e);
  const unknown = (s: string) => new InputError(`unknown engine "${s}" (known: ${ENGINE_IDS.join(", ")})`);
  return {
    ENGINES,
    ENGINE_IDS,
    engine(id) {
      const e = ENGINES.find((x) => x.id === id);
      if (!e) throw unknown(id);
      return e;
    },
    parseEngine(name) {
      const e = byName.get(name.trim().toLowerCase());
      if (!e) throw unknown(name);
      return e;
    },
  };
}

export const ENGINE_REGISTRY = makeEngineRegistry([vllm, llamacpp, mlx, transformers, ollama]);
export const { ENGINES, ENGINE_IDS, engine, parseEngine } = ENGINE_REGISTRY;

/** The engine a command or page plans with when the user names none: the first listed (vLLM, the GPU server). */
export const DEFAULT_ENGINE = ENGINE_IDS[0];
export type { EnginePlugin, ExportedCommand } from "./engine-contract.js";

/**
 * Every engine's commands reproducing a deployment (`hwledger export`, the /what-if page); an engine that cannot run
 * it says why.
 */
export function exportCommands(modelId: string, dep: Deployment, ggufPath?: string, engines: readonly EnginePlugin[] = ENGINES): { commands: ExportedCommand[]; skipped: Array<{ engine: string; reason: string }> } {
  const commands: ExportedCommand[] = [];
  const skipped: Array<{ engine: string; reason: string }> = [];
  for (const e of engines) {
    try {
      commands.push(...e.exportCommands(modelId, { ...dep, engine: e.id }, { gguf: ggufPath }));
    } catch (err) {
      skipped.push({ engine: e.id, reason: (err as Error).message });
    }
  }
  return { commands, skipped };
}
