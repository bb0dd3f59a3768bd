// The speed model against published llama.cpp results on devices it was never fitted to (data/evidence/cases/
// speed-llamacpp.json, verbatim excerpts under data/evidence/logs). The default efficiencies are per engine × device
// class; this test states how far off they are (printed), and fails if a case drifts past a factor of two — beyond
// that the model, not the defaults, would be wrong.
import { describe, expect, it } from "vitest";
import { evidenceRows, loadEvidence } from "../../loaders/evidence/index.js";

const ev = loadEvidence();
const cases = ev.files["speed-llamacpp.json"].cases;
const rows = await evidenceRows(ev, cases);

describe("speed vs published llama.cpp results", () => {
  it("has a prediction for every published result, none fitted", () => {
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) expect(r.set).toBe("held-out");
  });
  for (const r of rows) {
    it(`${r.model} on ${r.hardware}: ${r.figure} (${r.source.url})`, () => {
      const ratio = r.predicted! / r.reported;
      console.log(`speed ${r.case}: predicted ${r.predicted!.toFixed(1)} vs measured ${r.reported} t/s (${((ratio - 1) * 100).toFixed(0)}%)`);
      expect(ratio).toBeGreaterThan(0.5);
      expect(ratio).toBeLessThan(2);
    });
  }
});
