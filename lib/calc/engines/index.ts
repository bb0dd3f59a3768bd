// Engine profiles by id.
import { InputError } from "../types.js";
import type { EngineId } from "../types.js";
import type { EngineProfile } from "./profile.js";
import { llamacppProfile } from "./llamacpp.js";
import { mlxProfile } from "./mlx.js";
import { transformersProfile } from "./transformers.js";
import { vllmProfile } from "./vllm.js";

const PROFILES: Record<EngineId, EngineProfile> = {
  vllm: vllmProfile,
  "llama.cpp": llamacppProfile,
  mlx: mlxProfile,
  transformers: transformersProfile,
};

export const ENGINE_IDS = Object.keys(PROFILES) as EngineId[];

const ALIASES: Record<string, EngineId> = { llamacpp: "llama.cpp", "llama-cpp": "llama.cpp", "mlx-lm": "mlx", mlx_lm: "mlx", hf: "transformers" };

export function parseEngine(s: string): EngineId {
  const k = s.trim().toLowerCase();
  const id = (ALIASES[k] ?? k) as EngineId;
  if (!(id in PROFILES)) throw new InputError(`unknown engine "${s}" (known: ${ENGINE_IDS.join(", ")})`);
  return id;
}

export function engineProfile(id: EngineId): EngineProfile {
  const p = PROFILES[id];
  if (!p) throw new InputError(`unknown engine "${id}" (known: ${ENGINE_IDS.join(", ")})`);
  return p;
}
