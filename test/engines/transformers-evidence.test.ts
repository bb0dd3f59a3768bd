// transformers predictions against peak memory printed by real runs (test/fixtures/evidence/transformers.json; verbatim
// excerpts in test/fixtures/engine-logs/transformers-*.txt, sources in SOURCE-transformers.md). No run is repeated here
// (no GPU): the printed figures are MEASURED; weights and KV are exact arithmetic; activations are the profile's ESTIMATE.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { modelFromHfConfig } from "../../lib/calc/arch/index.js";
import { plan } from "../../lib/calc/plan.js";
import type { Deployment, ModelSpec } from "../../lib/calc/types.js";
import { catalogConfig, findCatalogEntry } from "../../loaders/catalog.js";
import { engine } from "../../plugins/engines.js";

interface Era {
  gptBigCodeMaskBuffer?: boolean;
  bnbInt8QuantizeOnLoad?: boolean;
  legacyTupleCache?: boolean;
  fullPromptLogits?: boolean;
  gptNeoxMaskBuffers?: boolean;
}
interface Case {
  id: string;
  kind: "weightsDominated";
  source: string;
  log: string;
  model: string;
  weights: string;
  seqs: number;
  promptTokens: number;
  newTokens: number;
  printedGiB?: number;
  printedAboveWeightsMiB?: number;
  era: Era;
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/evidence/transformers.json", import.meta.url), "utf8")) as {
  tolerance: { weightsDominated: { abs: number }; withActivations: { below: number; above: number }; growth: { below: number; above: number } };
  cases: Case[];
  pythia: { config: Record<string, unknown>; weights: string; newTokens: number; rows: [number, number, number, number][]; log: string };
  notReplayed: { id: string; printedGiB: number }[];
};
const GiB = 2 ** 30;
const MiB = 2 ** 20;
const log = (f: string) => readFileSync(new URL(`../fixtures/engine-logs/${f}`, import.meta.url), "utf8");

function dep(weights: string, seqs: number, context: number): Deployment {
  const kv = weights === "bf16" ? "bf16" : "f16";
  return { engine: "transformers", weights, kvDtypeK: kv, kvDtypeV: kv, context, seqs, tp: 1, pp: 1 };
}

/** Elements of the largest decoder linear (what bitsandbytes quantizes one tensor at a time). */
function largestLinear(model: ModelSpec): number {
  let m = 0;
  for (const l of model.layers) for (const t of l.tensors) if (t.shape.length >= 2 && ["attention", "ffn", "expert", "shared_expert"].includes(t.role)) m = Math.max(m, t.shape[0] * t.shape[1]);
  return m;
}

/**
 * Terms of the transformers / bitsandbytes versions the runs used that current transformers (the profile's rules)
 * no longer has, or that belong to the measurement window rather than to inference. Each from its source:
 * - gptBigCodeMaskBuffer: GPTBigCodeModel.__init__ (models/gpt_bigcode/modeling_gpt_bigcode.py, 2023) registers
 *   bias = torch.tril(torch.ones((max_positions, max_positions), dtype=torch.bool)): n_positions² bytes on the GPU.
 * - bnbInt8QuantizeOnLoad: the octocoder runs reset the peak before from_pretrained, so loading counts. bitsandbytes
 *   0.41 nn/modules.py Int8Params.cuda: B = data.half().cuda(); CB, CBt, SCB, SCBt, _ = double_quant(B); del CBt:
 *   while a linear is quantized its fp16 copy (2 B) and CBt (1 B) sit on top of the kept CB, with every earlier
 *   layer resident; the largest linear gives the peak.
 * - gptNeoxMaskBuffers: GPT-NeoX attention of that time registered the same max_positions² bool "bias" per layer
 *   (removed with the attention-interface refactor). Not re-read here: stated from the modeling file's history; the
 *   128-token rows leave 101 MB above weights + KV + logits, which is what 24 × 2048² bytes (100.7 MB) predicts.
 * - legacyTupleCache: models on tuple past_key_values (GPT-NeoX until its Cache port) torch.cat each layer's K/V into
 *   a new tensor while generate still holds the previous step's tuple, so "the current implementation basically has 2
 *   copies of the full cache in every iteration" (huggingface/transformers#30536, Cyrilvallez, 2024-04-29).
 * - fullPromptLogits: before generate passed num_logits_to_keep / logits_to_keep = 1 (transformers 4.45), the prefill
 *   computed logits for every prompt token in the model dtype, and _sample still held that output while the first
 *   decode step ran.
 */
function eraTerms(model: ModelSpec, era: Era, cfg: { nPositions?: number; seqs: number; prompt: number; context: number; kvPerToken: number }): number {
  let b = 0;
  if (era.gptBigCodeMaskBuffer) b += cfg.nPositions! ** 2;
  if (era.bnbInt8QuantizeOnLoad) b += largestLinear(model) * 3;
  if (era.gptNeoxMaskBuffers) b += model.layers.length * cfg.nPositions! ** 2;
  if (era.legacyTupleCache) b += cfg.seqs * cfg.context * cfg.kvPerToken;
  if (era.fullPromptLogits) b += cfg.seqs * cfg.prompt * model.vocabSize * 2;
  return b;
}

describe(`transformers: ${fixture.cases.length} weight-dominated real peaks (within ±${fixture.tolerance.weightsDominated.abs * 100}%)`, () => {
  const starcoder = modelFromHfConfig(catalogConfig(findCatalogEntry("bigcode/starcoder")!), "octocoder");
  const mamba = modelFromHfConfig(catalogConfig(findCatalogEntry("state-spaces/mamba-2.8b-hf")!), "mamba-2.8b-hf");
  const models: Record<string, ModelSpec> = { "bigcode/starcoder": starcoder, "state-spaces/mamba-2.8b-hf": mamba };

  for (const c of fixture.cases) {
    it(`${c.id} (${c.source.split(" (")[0]})`, () => {
      const model = models[c.model];
      const context = c.promptTokens + c.newTokens;
      const p = plan(model, dep(c.weights, c.seqs, context), engine("transformers"), { layers: false });
      const m = p.memory;
      if (c.printedGiB !== undefined) {
        // The figure is verbatim in the log.
        expect(log(c.log)).toContain(String(c.printedGiB));
        const peak = c.printedGiB * GiB;
        // Weights are resident at the peak.
        expect(m.weightsBytes).toBeLessThan(peak);
        const predicted = m.totalBytes + eraTerms(model, c.era, { nPositions: 8192, seqs: c.seqs, prompt: c.promptTokens, context, kvPerToken: p.kv.bytesPerToken });
        expect(Math.abs(predicted / peak - 1)).toBeLessThan(fixture.tolerance.weightsDominated.abs);
      } else {
        // Mamba: the figure is (peak - memory after loading) // MiB, i.e. the cache and activations alone.
        expect(log(c.log)).toContain(`Peak at: ${c.printedAboveWeightsMiB} MiB for cached generation`);
        const above = m.kvCacheBytes + m.activationBytes;
        // The recurrent state (conv + ssm per layer, independent of the 506 tokens) is resident at the peak: 12.5 MiB.
        expect(m.kvCacheBytes).toBe(64 * 5120 * (4 + 16) * 2);
        expect(m.kvCacheBytes).toBeLessThan(c.printedAboveWeightsMiB! * MiB);
        // The estimate sends the whole context through one prefill, but 500 of the 506 tokens were decoded one by one:
        // it overshoots here (39.6 MiB vs 27-28 MiB printed) by construction, and stays conservative.
        expect(above).toBeGreaterThan((c.printedAboveWeightsMiB! + 1) * MiB);
        expect(above).toBeLessThan(2 * c.printedAboveWeightsMiB! * MiB);
        // As a whole-peak figure (weights exact, 2.768e9 × 2 B) it lands within the weight-dominated tolerance.
        const peak = m.weightsBytes + c.printedAboveWeightsMiB! * MiB;
        expect(Math.abs(m.totalBytes / peak - 1)).toBeLessThan(fixture.tolerance.weightsDominated.abs);
      }
    });
  }

  it("bitsandbytes 4-bit: without the dequantized-weight transient the prediction falls 9% short; with it, 0.25%", () => {
    const c = fixture.cases.find((x) => x.id === "octocoder-bnb4-fp4-p20-g60")!;
    const p = plan(starcoder, dep("nf4-nodq", 1, 80), engine("transformers"), { layers: false });
    const mask = 8192 ** 2;
    // MatMul4Bit.forward dequantizes c_fc (6144 × 24576) to fp16 and casts it to float32 (compute dtype): 6 B/elem.
    const dequant = 6144 * 24576 * 6;
    expect(p.memory.activationBytes).toBeGreaterThan(dequant);
    const peak = c.printedGiB! * GiB;
    expect((p.memory.totalBytes - dequant + mask) / peak - 1).toBeLessThan(-0.08);
    expect(Math.abs((p.memory.totalBytes + mask) / peak - 1)).toBeLessThan(0.005);
  });

  it("the long-prompt octocoder runs are recorded but not replayed (their prompt's token count is not printed)", () => {
    for (const r of fixture.notReplayed) expect(log("transformers-llm-optimization-octocoder.txt")).toContain(String(r.printedGiB));
  });
});

describe("pythia-410m-deduped (transformers#31031): 15 generate() peaks over batch × prompt length", () => {
  const cfg = fixture.pythia.config;
  // Built as what it is: the gpt_neox family (lib/calc/arch/gpt-neox.ts) from pythia-410m-deduped's config.json fields.
  // Until that family existed this test built the model as Phi-2 (same q/k/v/dense and fc1/fc2 biases, but one
  // LayerNorm per block and a biased lm_head): 1,152 parameters (2,304 B in fp16) too many. Switching changed the
  // weights by exactly that and nothing else (KV, activation estimate and overhead are identical), so every row's
  // residual moved by -0.0002 points and the growth test not at all.
  const model = modelFromHfConfig(cfg, "pythia-410m-deduped");
  const kvPerToken = 24 * 2 * 1024 * 2;
  const rows = fixture.pythia.rows.map(([batch, prompt, eagerMB, sdpaMB]) => ({ batch, prompt, eagerMB, sdpaMB }));
  const predict = (batch: number, prompt: number) => {
    const context = prompt + fixture.pythia.newTokens;
    const p = plan(model, dep("fp16", batch, context), engine("transformers"), { layers: false });
    const era = eraTerms(model, { legacyTupleCache: true, fullPromptLogits: true, gptNeoxMaskBuffers: true }, { nPositions: 2048, seqs: batch, prompt, context, kvPerToken });
    return { plan: p.memory, predicted: p.memory.totalBytes + era };
  };

  it("weights: exactly the published 405,334,016 parameters × 2 B (Pythia model card, 410M row)", () => {
    expect(model.family).toBe("gpt_neox");
    expect(predict(1, 128).plan.weightsBytes).toBe(405_334_016 * 2);
  });

  it("every row is verbatim in the log, and memory depends on batch × prompt only (no quadratic attention term)", () => {
    const text = log(fixture.pythia.log);
    for (const r of rows) expect(text).toMatch(new RegExp(`\\|\\s+${r.batch} \\|\\s+${r.prompt} \\|.*\\|\\s+${r.eagerMB} \\|\\s+${r.sdpaMB} \\|`));
    const at = (b: number, s: number) => rows.find((r) => r.batch === b && r.prompt === s)!.sdpaMB;
    expect(Math.abs(at(2, 1024) / at(1, 2048) - 1)).toBeLessThan(0.001);
    expect(Math.abs(at(4, 512) / at(1, 2048) - 1)).toBeLessThan(0.001);
    expect(Math.abs(at(4, 1024) / at(2, 2048) - 1)).toBeLessThan(0.001);
  });

  it(`each row (SDPA): weights + KV + activation estimate + era terms within -${fixture.tolerance.withActivations.below * 100}% / +${fixture.tolerance.withActivations.above * 100}%`, () => {
    for (const r of rows) {
      const { plan: m, predicted } = predict(r.batch, r.prompt);
      const peak = r.sdpaMB * 1e6;
      // Weights and the KV cache are resident at the peak.
      expect(m.weightsBytes + m.kvCacheBytes).toBeLessThan(peak);
      const err = predicted / peak - 1;
      expect(err, `b${r.batch} s${r.prompt}: ${(err * 100).toFixed(1)}%`).toBeGreaterThan(-fixture.tolerance.withActivations.below);
      expect(err).toBeLessThan(fixture.tolerance.withActivations.above);
    }
  });

  it("growth with the prompt (batch 1, 128 -> 2048 tokens, same run setup): the per-token terms explain 80% of it", () => {
    const a = rows.find((r) => r.batch === 1 && r.prompt === 128)!;
    const b = rows.find((r) => r.batch === 1 && r.prompt === 2048)!;
    const observed = (b.sdpaMB - a.sdpaMB) * 1e6;
    const predicted = predict(1, 2048).predicted - predict(1, 128).predicted;
    const err = predicted / observed - 1;
    expect(err).toBeGreaterThan(-fixture.tolerance.growth.below);
    expect(err).toBeLessThan(fixture.tolerance.growth.above);
    // The profile's own KV growth (one copy, 98,304 B per token) is a quarter of the observed slope: with the old tuple
    // cache's second copy and the full-prompt fp16 logits it is 0.30 of the 0.40 MB per token; ~0.078 MB per token
    // (0.78 × one fp16 logits row) stays unexplained.
    const kvOnly = 1920 * kvPerToken;
    expect(kvOnly / observed).toBeGreaterThan(0.2);
    expect(kvOnly / observed).toBeLessThan(0.3);
    expect((observed - predicted) / 1920 / 1e6).toBeLessThan(0.09);
  });
});
