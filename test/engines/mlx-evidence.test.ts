// MLX predictions against peak memory printed by real mlx_lm runs (test/fixtures/evidence/mlx.json). MLX cannot run
// here (no Apple GPU), so the figures are the verbatim lines from the cited PRs, parsed by the engine-mlx plugin.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { modelFromHfConfig } from "../../lib/calc/arch/index.js";
import { plan } from "../../lib/calc/plan.js";
import { parseMlxLog } from "../../plugins/engine-mlx/index.js";
import { catalogConfig, findCatalogEntry } from "../../loaders/catalog.js";
import { engine } from "../../plugins/engines.js";

interface Case {
  id: string;
  source: string;
  log: string;
  /** When the log is a table rather than mlx_lm output: the peak it reports. */
  reported?: { peakBytes: number };
  /** The config.json fields, or the catalog model (HF id) whose shipped config.json is used. */
  config?: Record<string, unknown>;
  model?: string;
  weights: string;
  promptTokens: number;
  generationTokens: number;
  era: { prefillStep: number; lastChunkLogits: boolean; unfusedPrefillAttention: boolean };
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/evidence/mlx.json", import.meta.url), "utf8")) as {
  tolerance: { below: number; above: number };
  cases: Case[];
};

/**
 * Terms of mlx_lm versions older than the profile's rules (which follow mlx-lm d78bf58e), from the commits that
 * removed them:
 * - lastChunkLogits: before mlx-lm#406 (24fefe3d, 2025-08-28) generate_step ran the last prompt chunk
 *   (everything after the full prefill_step_size chunks, `while y.size > prefill_step_size`) through _step, so
 *   lm_head produced logits for the whole chunk in the model dtype.
 * - unfusedPrefillAttention: before mlx-lm#40 (2025-03-20) the prefill passed an array mask, so
 *   mx.fast.scaled_dot_product_attention took its unfused fallback: scores and their softmax, heads × chunk × keys
 *   in the model dtype, at the last full chunk (keys = the whole prompt by then).
 */
function olderVersionTerms(c: Case, nHeads: number, vocab: number): number {
  const step = c.era.prefillStep;
  const lastChunk = ((c.promptTokens - 1) % step) + 1;
  let extra = 0;
  if (c.era.lastChunkLogits) extra += lastChunk * vocab * 2;
  if (c.era.unfusedPrefillAttention && c.promptTokens > step) {
    const keys = c.promptTokens - lastChunk;
    extra += 2 * nHeads * step * keys * 2;
  }
  return extra;
}

/** Peak bytes: parsed from mlx_lm's own output by the engine-mlx plugin, or the table figure for table logs. */
function peakOf(c: Case): number | undefined {
  if (c.reported) return c.reported.peakBytes;
  return parseMlxLog(c.log).find((r) => r.peakMemoryBytes !== undefined)?.peakMemoryBytes;
}

describe(`MLX peak memory, ${fixture.cases.length} real runs (prediction within -${fixture.tolerance.below * 100}% / +${fixture.tolerance.above * 100}% of the peak)`, () => {
  it("has at least five cases", () => expect(fixture.cases.length).toBeGreaterThanOrEqual(5));
  for (const c of fixture.cases) {
    it(`${c.id} (${c.source.split(" ")[0]})`, () => {
      const peak = peakOf(c);
      expect(peak).toBeGreaterThan(0);
      const model = modelFromHfConfig(c.config ?? catalogConfig(findCatalogEntry(c.model!)!), c.id);
      const context = c.promptTokens + c.generationTokens;
      const p = plan(model, { engine: "mlx", weights: c.weights, kvDtypeK: "bf16", kvDtypeV: "bf16", context, seqs: 1, tp: 1, pp: 1, options: { prefillStepSize: c.era.prefillStep } }, engine("mlx"), { layers: false });
      const resident = p.memory.weightsBytes + p.memory.kvCacheBytes;
      // Weights and the KV cache are all alive at the peak.
      expect(resident).toBeLessThan(peak!);
      const predicted = p.memory.totalBytes + olderVersionTerms(c, model.nHeads, model.vocabSize);
      const err = predicted / peak! - 1;
      expect(err).toBeGreaterThan(-fixture.tolerance.below);
      expect(err).toBeLessThan(fixture.tolerance.above);
    });
  }
  it("DeepSeek-V3 growth with context (mlx-lm#839): 4096 -> 16384 tokens adds what the latent cache + MLA prefill rules say, within 10%", () => {
    const byCtx = fixture.cases.filter((c) => c.id.startsWith("deepseek-v3-4bit-mla-context-"));
    expect(byCtx).toHaveLength(3);
    const model = modelFromHfConfig(catalogConfig(findCatalogEntry("deepseek-ai/DeepSeek-V3")!), "dsv3");
    const total = (c: Case) => plan(model, { engine: "mlx", weights: "mlx-4bit", kvDtypeK: "bf16", kvDtypeV: "bf16", context: c.promptTokens + c.generationTokens, seqs: 1, tp: 1, pp: 1 }, engine("mlx"), { layers: false }).memory.totalBytes;
    const peak = (c: Case) => peakOf(c)!;
    const observed = peak(byCtx[2]) - peak(byCtx[0]);
    const predicted = total(byCtx[2]) - total(byCtx[0]);
    expect(Math.abs(predicted / observed - 1)).toBeLessThan(0.1);
    // The latent alone (61 layers × 576 × 2 B = 70 KB/token) explains under a tenth of it: the prefill expansion matters.
    const latentOnly = 61 * 576 * 2 * (16384 - 4096);
    expect(latentOnly / observed).toBeLessThan(0.1);
  });
});
