// MLX predictions against peak memory printed by real mlx_lm runs (data/evidence/cases/mlx.json). MLX cannot run here
// (no Apple GPU), so the figures are the verbatim lines from the cited PRs, read by the engine-mlx plugin's parser (or
// from the PR's table). Runs made before an mlx_lm commit that removed a memory term carry that term
// (loaders/evidence/release-terms.ts), which the prediction adds.
import { describe, expect, it } from "vitest";
import { evidenceRows, loadEvidence } from "../../loaders/evidence/index.js";

const ev = loadEvidence();
const file = ev.files["mlx.json"];
const tol = file.tolerances.peakMemory;
const rows = await evidenceRows(ev, file.cases);

describe(`MLX peak memory, ${file.cases.length} real runs (prediction within -${tol.below * 100}% / +${tol.above * 100}% of the peak)`, () => {
  it("has at least five cases", () => expect(file.cases.length).toBeGreaterThanOrEqual(5));
  for (const r of rows) {
    it(`${r.case} (${r.source.url})`, () => {
      expect(r.reported).toBeGreaterThan(0);
      // Weights and the KV cache are all alive at the peak.
      expect(r.breakdown!.weightsBytes + r.breakdown!.kvCacheBytes).toBeLessThan(r.reported);
      const err = r.errorPct! / 100;
      expect(err).toBeGreaterThan(-tol.below);
      expect(err).toBeLessThan(tol.above);
    });
  }

  it("DeepSeek-V3 growth with context (mlx-lm#839): 4096 -> 16384 tokens adds what the latent cache + MLA prefill rules say, within 10%", () => {
    const byCtx = rows.filter((r) => r.case.startsWith("deepseek-v3-4bit-mla-context-"));
    expect(byCtx.map((r) => r.case)).toEqual(["4096", "8192", "16384"].map((n) => `deepseek-v3-4bit-mla-context-${n}`));
    const observed = byCtx[2].reported - byCtx[0].reported;
    const predicted = byCtx[2].predicted! - byCtx[0].predicted!;
    expect(Math.abs(predicted / observed - 1)).toBeLessThan(0.1);
    // The latent alone (61 layers × 576 × 2 B = 70 KB/token) explains under a tenth of it: the prefill expansion matters.
    const latentOnly = 61 * 576 * 2 * (16384 - 4096);
    expect(latentOnly / observed).toBeLessThan(0.1);
  });

  it("runs before mlx-lm#406 / #40 carry their release terms, later runs none", () => {
    for (const c of file.cases) {
      const r = rows.find((x) => x.case === c.id)!;
      expect((r.adjustments ?? []).map((a) => a.term)).toEqual(c.settings.releaseTerms ?? []);
    }
  });
});
