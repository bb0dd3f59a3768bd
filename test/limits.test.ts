// The bounds of lib/calc/limits.ts against the shipped catalog (the largest real models): each bound must leave real
// models far inside it, or it would refuse real input. The catalog is the derivation set for the figures cited in
// limits.ts; the check is that no catalog model comes within 4× of any bound.
import { describe, expect, it } from "vitest";
import { LIMITS, checkLimit, modelFromHfConfig } from "../lib/calc/index.js";
import { catalogConfig, catalogEntries } from "../loaders/catalog.js";

describe("limits", () => {
  const models = catalogEntries().map((e) => modelFromHfConfig(catalogConfig(e), e.id));

  it("leave every catalog model at least 4× inside each bound", () => {
    const most = { layers: 0, hidden: 0, vocab: 0, heads: 0, experts: 0, context: 0 };
    for (const m of models) {
      most.layers = Math.max(most.layers, m.layers.length);
      most.hidden = Math.max(most.hidden, m.hiddenSize);
      most.vocab = Math.max(most.vocab, m.vocabSize);
      most.heads = Math.max(most.heads, m.nHeads);
      most.context = Math.max(most.context, m.maxContext);
      for (const l of m.layers) if (l.moe) most.experts = Math.max(most.experts, l.moe.experts);
    }
    expect(models.length).toBeGreaterThan(30);
    for (const [k, v] of Object.entries(most)) expect(v * 4, `${k}: catalog maximum ${v}`).toBeLessThanOrEqual(LIMITS[k as keyof typeof most].max);
    // The figures the bounds cite are the catalog's own maxima.
    expect(most).toMatchObject({ layers: 126, vocab: 262208, context: 10_485_760, experts: 512 });
  });

  it("refuse with the bound and its reason in one line", () => {
    expect(() => checkLimit(2000, "layers", "x.json: num_hidden_layers")).toThrow(
      /^x\.json: num_hidden_layers is 2,000, too large \(the limit is 1,024: 8× the deepest real model \(Llama 3\.1 405B: 126 layers\)\)$/,
    );
    expect(checkLimit(1024, "layers", "n")).toBe(1024);
  });
});
