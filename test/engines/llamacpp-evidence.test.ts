// Evidence from real llama.cpp output (verbatim logs and tables under data/evidence/logs, sources in
// SOURCES-llamacpp.md; cases in data/evidence/cases/llamacpp.json): the KV/recurrent cache sizes llama.cpp printed vs
// hwledger's llama.cpp plan for the same model and settings, equal at the printed precision. Models come from the
// GGUF metadata the log prints (llama_model_loader kv lines), from a table's published layout, or from the catalog.
import { describe, expect, it } from "vitest";
import { evidenceRows, loadEvidence } from "../../loaders/evidence/index.js";

const ev = loadEvidence();
const cases = ev.files["llamacpp.json"].cases;
const rows = await evidenceRows(ev, cases);

describe("llama.cpp evidence: printed KV cache sizes vs hwledger plan", () => {
  for (const c of cases) {
    it(`${c.id} (${c.tags[0]}, ${c.source.url})`, () => {
      const rs = rows.filter((r) => r.case === c.id);
      expect(rs.length).toBe(c.figures.length);
      for (const r of rs) {
        expect(r.predicted, r.figure).not.toBeNull();
        if (r.quantity === "weights") {
          // Weights: the GGUF file mix is an estimate from the architecture; stated tolerance 1%.
          expect(Math.abs(r.errorPct!)).toBeLessThan(1);
        } else if (r.unit === "cells") {
          expect(r.predicted).toBe(r.reported);
        } else {
          // Each cache line (or table cell) equals the plan's cache of the same kind at the printed precision.
          expect(r.predictedPrinted, r.figure).toBe(r.printed);
        }
      }
    });
  }

  it("spans MHA, GQA, SWA, MLA, SSM and hybrid MoE with f16, q8_0, q4_0 and iq4_nl caches (≥ 10 held-out predictions)", () => {
    const heldOut = cases.filter((c) => c.set === "held-out" && c.figures.some((f) => f.quantity !== "weights"));
    expect(heldOut.length).toBeGreaterThanOrEqual(10);
    expect(new Set(cases.map((c) => c.tags[0]))).toEqual(new Set(["MHA", "GQA", "SWA", "MLA", "SSM", "SSM hybrid + MoE", "weights"]));
    expect(new Set(cases.map((c) => c.settings.kvDtype))).toEqual(new Set(["f16", "q8_0", "q4_0", "iq4_nl"]));
  });

  it("the anchors that fix a table's unstated context are derived, the rows predicted from them are held out", () => {
    for (const c of cases.filter((x) => x.id.endsWith("-anchor"))) expect(c.set).toBe("derived");
    for (const c of cases.filter((x) => x.model.sameAs?.endsWith("-anchor"))) expect(c.set).toBe("held-out");
  });
});
