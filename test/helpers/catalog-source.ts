// Source check for catalog entries copied from a derived Hugging Face repository (a fine-tune or a copy of the
// base model): the page is a blob/blame view of the whole config.json, and the manifest note names that repository
// and the base id the entry is filed under (loaders/catalog/SOURCES.md).
import { expect } from "vitest";
import type { CatalogEntry } from "../../loaders/catalog.js";

export function expectDerivedSource(e: CatalogEntry): void {
  const m = /^https:\/\/huggingface\.co\/([\w.-]+\/[\w.-]+)\/(blob|blame)\/[^/ ]+\/config\.json /.exec(e.source);
  expect(m, e.source).not.toBeNull();
  expect(e.note).toContain(`verbatim config.json of ${m![1]} (`);
  expect(e.note).toMatch(new RegExp(`\\((fine-tune|copy) of ${e.id.replace(/[.]/g, "\\.")}; architecture fields identical to the base\\)`));
}
