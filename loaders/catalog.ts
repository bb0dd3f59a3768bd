// The shipped model catalog: verbatim config.json files with their sources (loaders/catalog/SOURCES.md).
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { parseConfigText } from "../lib/calc/index.js";

export const catalogEntrySchema = z.object({
  /** Canonical HF id, e.g. "meta-llama/Llama-3.1-8B". */
  id: z.string(),
  /** URL-safe slug used for report routes and file names. */
  slug: z.string(),
  /** File under loaders/catalog/configs/. */
  file: z.string(),
  /** Sibling ids with the same architecture (instruct/chat/base variants). */
  aliases: z.array(z.string()).default([]),
  /** Where the verbatim config.json was copied from. */
  source: z.string(),
  note: z.string().optional(),
});

export type CatalogEntry = z.infer<typeof catalogEntrySchema>;

const DIR = fileURLToPath(new URL("./catalog/", import.meta.url));

let entries: CatalogEntry[] | undefined;

export function catalogEntries(): CatalogEntry[] {
  // One manifest per part of the catalog (manifest-*.json), merged; ids must be unique.
  entries ??= readdirSync(DIR)
    .filter((f) => /^manifest.*\.json$/.test(f))
    .sort()
    .flatMap((f) => z.array(catalogEntrySchema).parse(JSON.parse(readFileSync(DIR + f, "utf8"))));
  return entries;
}

export function catalogConfig(entry: CatalogEntry): Record<string, unknown> {
  return parseConfigText(readFileSync(DIR + "configs/" + entry.file, "utf8"), entry.file);
}

/** Finds a catalog model by HF id, alias or slug (case-insensitive). */
export function findCatalogEntry(ref: string): CatalogEntry | undefined {
  const key = ref.trim().replace(/^https:\/\/huggingface\.co\//, "").toLowerCase();
  return catalogEntries().find((e) => e.id.toLowerCase() === key || e.slug.toLowerCase() === key || e.aliases.some((a) => a.toLowerCase() === key));
}
