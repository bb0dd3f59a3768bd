// Source check for catalog entries copied from a derived Hugging Face repository (a fine-tune or a copy of the
// base model): the page is a blob/blame view of the whole config.json, and the manifest note names that repository
// and the base id the entry is filed under (loaders/catalog/SOURCES.md).
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { expect } from "vitest";
import type { CatalogEntry } from "../../loaders/catalog.js";

export function expectDerivedSource(e: CatalogEntry): void {
  const m = /^https:\/\/huggingface\.co\/([\w.-]+\/[\w.-]+)\/(blob|blame)\/[^/ ]+\/config\.json /.exec(e.source);
  expect(m, e.source).not.toBeNull();
  expect(e.note).toContain(`verbatim config.json of ${m![1]} (`);
  expect(e.note).toMatch(new RegExp(`\\((fine-tune|copy) of ${e.id.replace(/[.]/g, "\\.")}; architecture fields identical to the base\\)`));
}

const CATALOG = new URL("../../loaders/catalog/", import.meta.url);

/**
 * Entries whose source note sits in loaders/catalog/sources/ (copied with the shared configs' SOURCE.txt): the note
 * states the published size and sha256 of the file, and the shipped bytes must hash to exactly that; a note without a
 * hash must say in capitals how the copy differs from the published file.
 */
export function isNotedSource(e: CatalogEntry): boolean {
  return /see sources\/[\w.-]+\.txt$/.test(e.source);
}

export function expectNotedSource(e: CatalogEntry): void {
  const name = /see sources\/([\w.-]+\.txt)$/.exec(e.source)![1];
  const note = new URL(`sources/${name}`, CATALOG);
  expect(existsSync(note), name).toBe(true);
  const text = readFileSync(note, "utf8");
  expect(text).toContain(`Model: ${e.id}`);
  const bytes = readFileSync(new URL(`configs/${e.file}`, CATALOG));
  const stated = /Size: (\d+) bytes\s+sha256: ([0-9a-f]{64})/.exec(text);
  if (stated) {
    expect(bytes.length).toBe(Number(stated[1]));
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(stated[2]);
  } else {
    expect(text).toMatch(/NOT byte-identical to the published file: .+/);
  }
}
