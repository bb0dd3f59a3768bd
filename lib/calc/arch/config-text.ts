// config.json text as Hugging Face repositories hold it. Python's json.dump writes float("inf") and float("nan") as the
// bare tokens Infinity, -Infinity and NaN, and transformers reads them back (e.g. Mamba2Config's default
// time_step_limit (0.0, inf) in mistralai/Mamba-Codestral-7B-v0.1 and every transformers Mamba2 conversion), so
// strict JSON.parse alone would reject real checkpoints. JSON5 reads those tokens as numbers.
import JSON5 from "json5";
import { InputError } from "../types.js";

/** Parses config.json text into an object; `label` names the file in the one-line error. */
export function parseConfigText(text: string, label: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON5.parse(text);
  } catch (error) {
    throw new InputError(`${label}: malformed config.json (${(error as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InputError(`${label}: config.json must be a JSON object`);
  return v as Record<string, unknown>;
}
