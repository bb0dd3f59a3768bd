// Resolving --model: a config.json path (or a folder holding one), a catalog HF id, or an HF id fetched online.
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { modelFromHfConfig, parseConfigText, InputError } from "../lib/calc/index.js";
import type { ModelSpec } from "../lib/calc/index.js";
import { catalogConfig, findCatalogEntry } from "./catalog.js";
import { readRegularFile } from "./files.js";

const readConfig = (file: string) => parseConfigText(readRegularFile(file, "config.json", "textFileBytes").toString("utf8"), file);

export interface ResolvedModel {
  model: ModelSpec;
  config: Record<string, unknown>;
  /** "file", "catalog", "hf-cache" or "hf-hub". */
  origin: string;
  source: string;
}

function cacheDir(): string {
  return process.env.HWLEDGER_CACHE ?? join(homedir(), ".cache", "hwledger");
}

const HF_ID = /^[\w.-]+\/[\w.-]+$/;

export async function resolveModel(ref: string, opts: { offline?: boolean } = {}): Promise<ResolvedModel> {
  if (existsSync(ref)) {
    const file = statSync(ref).isDirectory() ? join(ref, "config.json") : ref;
    if (!existsSync(file)) throw new InputError(`${ref}: no config.json in that folder`);
    const config = readConfig(file);
    return { model: modelFromHfConfig(config, typeof config._name_or_path === "string" && config._name_or_path ? config._name_or_path : file), config, origin: "file", source: file };
  }
  const entry = findCatalogEntry(ref);
  if (entry) {
    const config = catalogConfig(entry);
    return { model: modelFromHfConfig(config, entry.id), config, origin: "catalog", source: entry.source };
  }
  if (!HF_ID.test(ref)) throw new InputError(`--model "${ref}" is neither a file nor an HF id (owner/name) nor a catalog model`);
  const cached = join(cacheDir(), "hf", ref, "config.json");
  if (existsSync(cached)) {
    const config = readConfig(cached);
    return { model: modelFromHfConfig(config, ref), config, origin: "hf-cache", source: `https://huggingface.co/${ref}` };
  }
  if (opts.offline || process.env.HWLEDGER_OFFLINE) throw new InputError(`${ref} is not in the shipped catalog and offline mode is on`);
  const text = await fetchHubConfig(ref);
  const config = parseConfigText(text, ref);
  const model = modelFromHfConfig(config, ref);
  mkdirSync(join(cacheDir(), "hf", ref), { recursive: true });
  writeFileSync(cached, text);
  return { model, config, origin: "hf-hub", source: `https://huggingface.co/${ref}` };
}

async function fetchHubConfig(id: string): Promise<string> {
  const { downloadFile } = await import("@huggingface/hub");
  let blob: Blob | null;
  try {
    blob = await downloadFile({ repo: id, path: "config.json", accessToken: process.env.HF_TOKEN });
  } catch (e) {
    throw new InputError(`${id} is not in the shipped catalog and the HF hub could not be reached (${(e as Error).message.split("\n")[0]})`);
  }
  if (!blob) throw new InputError(`${id}: the HF hub has no config.json for it`);
  return blob.text();
}
