// config.json text as Hugging Face repositories hold it. Python's json.dump writes float("inf") and float("nan") as the
// bare tokens Infinity, -Infinity and NaN, and transformers reads them back (e.g. Mamba2Config's default
// time_step_limit (0.0, inf) in mistralai/Mamba-Codestral-7B-v0.1 and every transformers Mamba2 conversion), so
// strict JSON.parse alone would reject real checkpoints. Those tokens are accepted outside strings; anything else
// that is not JSON stays an error.
import { InputError } from "../types.js";

const PY_TOKENS: Record<string, number> = { Infinity: Infinity, "-Infinity": -Infinity, NaN: NaN };
const MARK = "\u0000py:";

/** Marks Python's non-finite tokens (outside strings) as strings, so JSON.parse can read the rest. */
function markPythonTokens(text: string): string {
  let out = "";
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    for (const tok of ["-Infinity", "Infinity", "NaN"]) {
      if (text.startsWith(tok, i)) {
        out += text.slice(last, i) + JSON.stringify(MARK + tok);
        i += tok.length - 1;
        last = i + 1;
        break;
      }
    }
  }
  return out + text.slice(last);
}

/** Parses config.json text into an object; `label` names the file in the one-line error. */
export function parseConfigText(text: string, label: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (strictError) {
    try {
      v = JSON.parse(markPythonTokens(text), (_k, x) => (typeof x === "string" && x.startsWith(MARK) ? PY_TOKENS[x.slice(MARK.length)] : x));
    } catch {
      throw new InputError(`${label}: malformed config.json (${(strictError as Error).message})`);
    }
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InputError(`${label}: config.json must be a JSON object`);
  return v as Record<string, unknown>;
}
