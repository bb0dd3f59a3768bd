// Work is linear in the number of layers: a 100,000-layer model plans with every engine (its time is measured by
// `npm run bench`, plan_100k_layers_ms, not asserted here). A config.json that deep is refused at the input edge
// (lib/calc/limits.ts), so the model is a small one's layers repeated (bench/plan.bench.ts withLayers).
import { describe, expect, it } from "vitest";
import { fit, makeDeployment, modelFromHfConfig, plan } from "../../lib/calc/index.js";
import { ENGINES, engine } from "../../plugins/engines.js";
import { withLayers } from "../../bench/plan.bench.js";

const N = 100_000;
const llama = withLayers(modelFromHfConfig({ model_type: "llama", hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 128, vocab_size: 256, max_position_embeddings: 4096 }, "llama-100k"), N);
// Gemma 2 layout: sliding and global layers alternate (vLLM's hybrid grouping, llama.cpp's iSWA cache).
const gemma2 = withLayers(modelFromHfConfig({ model_type: "gemma2", hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, intermediate_size: 128, vocab_size: 256, max_position_embeddings: 4096, sliding_window: 512 }, "gemma2-100k"), N);

describe("100,000 layers", () => {
  for (const e of ENGINES) {
    it(`${e.id}: plan with per-layer rows`, () => {
      const p = plan(llama, makeDeployment(llama, { engine: e, context: 1024, seqs: 2 }), e);
      expect(p.layers).toHaveLength(N);
      expect(p.layers.reduce((a, l) => a + l.kvBytes, 0)).toBeCloseTo(p.memory.kvCacheBytes, -3);
    });
    it(`${e.id}: sliding and global layers`, () => {
      const p = plan(gemma2, makeDeployment(gemma2, { engine: e, context: 2048 }), e, { layers: false });
      expect(p.memory.kvCacheBytes).toBeGreaterThan(0);
    });
  }
  it("vLLM fit over a hybrid layout", () => {
    const vllm = engine("vllm");
    const r = fit(gemma2, makeDeployment(gemma2, { engine: vllm, context: 2048 }), vllm, { kvBudgetBytes: 64 * 1024 ** 3 });
    expect(r.maxConcurrency).toBeGreaterThan(0);
  });
});
