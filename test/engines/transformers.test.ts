// transformers cache rules (src/transformers/cache_utils.py) on hand-checkable configurations. transformers cannot
// run a real model here (no GPU, no weights offline), so these check the arithmetic of each cache class.
import { describe, expect, it } from "vitest";
import { modelFromHfConfig } from "../../lib/calc/arch/index.js";
import { kvElemsPerToken } from "../../lib/calc/cache/index.js";
import { plan } from "../../lib/calc/plan.js";
import type { CacheSpec, Deployment, LayerSpec, ModelSpec } from "../../lib/calc/types.js";
import { InputError } from "../../lib/calc/types.js";
import { engine } from "../../plugins/engines.js";

/** The engine's compiled rules, read the way these tests ask them: one deployment at a time. */
const E = engine("transformers");
const profile = {
  cache(m: ModelSpec, d: Deployment) {
    const t = E.compile(m, d);
    return { total: t.kvBytes(d.context, d.seqs), perLayer: t.kvPerLayer(d.context, d.seqs), bytesPerToken: t.kvBytesPerToken(d.context, d.seqs) };
  },
  activations(m: ModelSpec, d: Deployment) {
    const t = E.compile(m, d);
    return { bytes: t.activationBytes(d.context, d.seqs), basis: t.activationBasis };
  },
  warnings: (m: ModelSpec, d: Deployment) => E.compile(m, d).warnings,
};

const LLAMA_8B = { model_type: "llama", torch_dtype: "bfloat16", hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, tie_word_embeddings: false };
const llama = modelFromHfConfig(LLAMA_8B, "llama-3.1-8b");
const PER_TOKEN = 32 * 8 * 128 * 2 * 2;
const ELEMS = PER_TOKEN / 2;

function dep(context: number, o: Partial<Deployment> = {}): Deployment {
  return { engine: "transformers", weights: "bf16", kvDtypeK: "bf16", kvDtypeV: "bf16", context, seqs: 1, tp: 1, pp: 1, ...o };
}
const kv = (m: ModelSpec, d: Deployment) => profile.cache(m, d);

function cacheModel(modelType: string, caches: CacheSpec[]): ModelSpec {
  const layers: LayerSpec[] = caches.map((cache, index) => ({ index, kind: cache.kind, cache, tensors: [] }));
  return { id: modelType, modelType, family: "test", hiddenSize: 2048, vocabSize: 1000, nHeads: 16, maxContext: 1 << 20, tiedEmbeddings: true, nativeDtype: "bfloat16", layers, globals: [], notes: [] };
}

describe("DynamicCache: torch.cat per token, no rounding", () => {
  it("1000 tokens hold exactly 1000 tokens of K and V per layer, per sequence", () => {
    expect(kv(llama, dep(1000)).total).toBe(1000 * PER_TOKEN);
    expect(kv(llama, dep(1000, { seqs: 4 })).total).toBe(4 * 1000 * PER_TOKEN);
  });
  it("StaticCache preallocates the same max_cache_len and needs no torch.cat copy", () => {
    const s = dep(4096, { options: { cacheImplementation: "static" } });
    expect(kv(llama, s).total).toBe(4096 * PER_TOKEN);
    expect(profile.activations(llama, s).bytes).toBeLessThan(profile.activations(llama, dep(4096)).bytes);
  });
});

describe("DynamicSlidingWindowLayer", () => {
  const mistral = modelFromHfConfig({ ...LLAMA_8B, model_type: "mistral", vocab_size: 32000, sliding_window: 4096 }, "mistral-7b-v0.1");
  it("holds sliding_window tokens of storage past the window (a view of window - 1 pins the last concatenation)", () => {
    expect(kv(mistral, dep(8192)).total).toBe(4096 * PER_TOKEN);
    expect(kv(mistral, dep(3000)).total).toBe(3000 * PER_TOKEN);
  });
  it("right after a full-length prompt the view still pins the whole prompt: the excess over the window is a transient", () => {
    const a = profile.activations(mistral, dep(8192)).bytes;
    const noWindow = profile.activations(mistral, dep(8192, { options: { cacheImplementation: "static" } })).bytes;
    // static: no pinned prompt and no torch.cat copy of the (window-sized) largest layer
    expect(a - noWindow).toBe((8192 - 4096) * PER_TOKEN + 4096 * (PER_TOKEN / 32));
  });
});

describe("MLA is cached expanded (DeepseekV2Attention: per-head K = nope + rope, V)", () => {
  // DeepSeek-V2-Lite config.json: 27 layers, 16 heads, kv_lora_rank 512, qk_rope_head_dim 64, qk_nope_head_dim 128, v_head_dim 128.
  const mla: CacheSpec = { kind: "mla", nHeads: 16, kvLoraRank: 512, ropeDim: 64, qkNopeHeadDim: 128, vHeadDim: 128 };
  const lite = cacheModel("deepseek_v2", Array.from({ length: 27 }, () => mla));
  it("16 × (128 + 64) + 16 × 128 = 5120 elements per token per layer", () => {
    expect(kv(lite, dep(1000)).total).toBe(27 * 1000 * 5120 * 2);
  });
  it("is 8.89× the latent a latent-caching engine (vLLM) keeps: 5120 / (512 + 64)", () => {
    const latent = kvElemsPerToken(mla, "latent");
    expect(kv(lite, dep(1000)).total / (27 * 1000 * (latent.k + latent.v) * 2)).toBeCloseTo(5120 / 576, 10);
  });
});

describe("QuantizedCache (quanto int4 / HQQ 8-bit, group 64, 128-token residual)", () => {
  it("tokens past the residual are 0.5 + 4/64 bytes per element, the residual stays 16-bit", () => {
    expect(kv(llama, dep(1000, { kvDtypeK: "q4", kvDtypeV: "q4" })).total).toBe((872 * 0.5625 + 128 * 2) * ELEMS);
    expect(kv(llama, dep(100, { kvDtypeK: "q8", kvDtypeV: "q8" })).total).toBe(100 * 2 * ELEMS);
  });
  it("refuses sliding/MLA/SSM layers, a static quantized cache, and dtypes transformers has no cache for", () => {
    const mistral = modelFromHfConfig({ ...LLAMA_8B, model_type: "mistral", sliding_window: 4096 }, "m");
    expect(() => kv(mistral, dep(100, { kvDtypeK: "q4", kvDtypeV: "q4" }))).toThrow(InputError);
    expect(() => kv(llama, dep(100, { kvDtypeK: "q4", kvDtypeV: "q4", options: { cacheImplementation: "static" } }))).toThrow(/static/);
    expect(() => kv(llama, dep(100, { kvDtypeK: "fp8", kvDtypeV: "fp8" }))).toThrow(/transformers/);
    expect(() => kv(llama, dep(100, { kvDtypeK: "q8_0", kvDtypeV: "q8_0" }))).toThrow(InputError);
  });
});

describe("recurrent state and activations", () => {
  it("Mamba cache: conv and ssm states per sequence in the model dtype", () => {
    const m = cacheModel("mamba", [{ kind: "recurrent", variant: "mamba", convElems: 4 * 1536, stateElems: 16 * 1536 }]);
    expect(kv(m, dep(100000, { seqs: 3 })).total).toBe(3 * (4 + 16) * 1536 * 2);
  });
  it("prefill of the whole prompt through the widest block + one layer's torch.cat copy + last-token float32 logits", () => {
    // widest block: 2×4096 residual + MLP (gate 14336 + up 14336) × 1.5 = 51,200 elements per token
    const a = profile.activations(llama, dep(4096));
    expect(a.bytes).toBe(4096 * 51_200 * 2 + 4096 * PER_TOKEN / 32 + 128_256 * 4 * 2);
    expect(a.basis).toMatch(/^estimate:/);
  });
  it("plan() carries the rules' basis", () => {
    const p = plan(llama, dep(2048), engine("transformers"));
    expect(p.memory.kvCacheBytes).toBe(2048 * PER_TOKEN);
    expect(p.basis.join("\n")).toMatch(/cache_utils\.py/);
  });
});
