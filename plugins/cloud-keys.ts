// Provider API keys: the environment first, then the provider's own config file, every path under HOME (or
// XDG_CONFIG_HOME where the provider's CLI uses it) so tests stay hermetic. A key read is registered for
// redaction before anything else sees it.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { KeySource } from "./cloud-contract.js";
import { registerSecret } from "./redact.js";

export interface FoundKey {
  key: string;
  /** Where it came from, as the user would write it ($VAST_API_KEY, ~/.config/vastai/vast_api_key). */
  from: string;
}

/** "~/x" and "$XDG_CONFIG_HOME/x" (default ~/.config) to a real path and a display form without the home path. */
export function resolveKeyPath(p: string, env: NodeJS.ProcessEnv = process.env): { path: string; shown: string } {
  const home = env.HOME || homedir();
  if (p.startsWith("$XDG_CONFIG_HOME/")) {
    const rest = p.slice("$XDG_CONFIG_HOME/".length);
    if (env.XDG_CONFIG_HOME) return { path: join(env.XDG_CONFIG_HOME, rest), shown: `$XDG_CONFIG_HOME/${rest}` };
    return { path: join(home, ".config", rest), shown: `~/.config/${rest}` };
  }
  if (p.startsWith("~/")) return { path: join(home, p.slice(2)), shown: p };
  throw new Error(`key file paths start with ~/ or $XDG_CONFIG_HOME/, got ${p}`);
}

export function readKey(src: KeySource, env: NodeJS.ProcessEnv = process.env): FoundKey | undefined {
  const fromEnv = env[src.env]?.trim();
  if (fromEnv) {
    registerSecret(fromEnv);
    return { key: fromEnv, from: `$${src.env}` };
  }
  for (const f of src.files) {
    const { path, shown } = resolveKeyPath(f, env);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue;
    }
    const key = src.parse(text, f)?.trim();
    if (key) {
      registerSecret(key);
      return { key, from: shown };
    }
  }
  return undefined;
}

/** Where a key may be put, for the "no key" message. */
export function keyPlaces(src: KeySource, env: NodeJS.ProcessEnv = process.env): string {
  return [`$${src.env}`, ...src.files.map((f) => resolveKeyPath(f, env).shown)].join(" or ");
}

/** A whole file holding just the key (Vast.ai's vast_api_key). */
export function plainKey(text: string): string | undefined {
  return text.split(/\r?\n/)[0]?.trim() || undefined;
}

/**
 * One string value from a small TOML file: `key = "v"` under `[section]` (or at the top when section is
 * undefined). Enough for ~/.runpod/config.toml; not a TOML parser.
 */
export function tomlString(text: string, section: string | undefined, key: string): string | undefined {
  let current: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      current = sec[1].trim().replace(/^"|"$/g, "");
      continue;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')\s*$/.exec(line);
    if (kv && current === section && kv[1] === key) return kv[2] !== undefined ? kv[2].replace(/\\(.)/g, "$1") : kv[3];
  }
  return undefined;
}
