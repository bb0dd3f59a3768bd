// MLX (mlx-lm) cache rules on hand-checkable configurations (mlx_lm/models/cache.py, generate.py).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { modelFromHfConfig } from "../../lib/calc/arch/index.js";
import { plan } from "../../lib/calc/plan.js";
import type { CacheSpec, Deployment, LayerSpec, ModelSpec } from "../../lib/calc/types.js";
import { InputError } from "../../lib/calc/types.js";
import { runCli, runCliJson } from "../helpers/cli.js";
import { engine } from "../../plugins/engines.js";

/** The engine's compiled rules, read the way these tests ask them: one deployment at a time. */
const E = engine("mlx");
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
// 32 layers × 8 KV heads × 128 dims × (K + V) × 2 bytes
const PER_TOKEN_BF16 = 32 * 8 * 128 * 2 * 2;

function dep(context: number, o: Partial<Deployment> = {}): Deployment {
  return { engine: "mlx", weights: "mlx-4bit", kvDtypeK: "bf16", kvDtypeV: "bf16", context, seqs: 1, tp: 1, pp: 1, ...o };
}
const kv = (m: ModelSpec, d: Deployment) => profile.cache(m, d).total;

/** A model of hand-made layers (cache only matters here). */
function cacheModel(modelType: string, caches: CacheSpec[]): ModelSpec {
  const layers: LayerSpec[] = caches.map((cache, index) => ({ index, kind: cache.kind, cache, tensors: [] }));
  return { id: modelType, modelType, family: "test", hiddenSize: 1024, vocabSize: 1000, nHeads: 8, maxContext: 1 << 20, tiedEmbeddings: true, nativeDtype: "bfloat16", layers, globals: [], notes: [] };
}

describe("KVCache grows in 256-token steps", () => {
  it("1000 tokens allocate 1024, 1025 allocate 1280", () => {
    expect(kv(llama, dep(1000))).toBe(1024 * PER_TOKEN_BF16);
    expect(kv(llama, dep(1024))).toBe(1024 * PER_TOKEN_BF16);
    expect(kv(llama, dep(1025))).toBe(1280 * PER_TOKEN_BF16);
  });
  it("each sequence has its own cache", () => {
    expect(kv(llama, dep(1000, { seqs: 3 }))).toBe(3 * 1024 * PER_TOKEN_BF16);
  });
  it("bytesPerToken is the unrounded per-token figure", () => {
    expect(profile.cache(llama, dep(1000)).bytesPerToken).toBe(PER_TOKEN_BF16);
  });
});

describe("QuantizedKVCache (--kv-bits): packed values + model-dtype scale and bias per 64", () => {
  it("8-bit = 1 + 4/64 bytes per element, 4-bit = 0.5 + 4/64", () => {
    expect(kv(llama, dep(256, { kvDtypeK: "q8", kvDtypeV: "q8" }))).toBe(256 * (PER_TOKEN_BF16 / 2) * 1.0625);
    expect(kv(llama, dep(256, { kvDtypeK: "q4", kvDtypeV: "q4" }))).toBe(256 * (PER_TOKEN_BF16 / 2) * 0.5625);
  });
  it("group size 32 doubles the scale/bias share", () => {
    expect(kv(llama, dep(256, { kvDtypeK: "q4", kvDtypeV: "q4", options: { kvGroupSize: 32 } }))).toBe(256 * (PER_TOKEN_BF16 / 2) * 0.625);
  });
  it("only KVCache layers are quantized: a chunked (Llama 4) layer keeps the model dtype", () => {
    const chunked: CacheSpec = { kind: "chunked", nKvHeads: 8, headDimK: 128, headDimV: 128, chunk: 8192 };
    const full: CacheSpec = { kind: "full", nKvHeads: 8, headDimK: 128, headDimV: 128 };
    const m = cacheModel("llama4_text", [chunked, full]);
    expect(profile.cache(m, dep(20000, { kvDtypeK: "q4", kvDtypeV: "q4" })).perLayer).toEqual([(8192 + 256) * 2048 * 2, 20224 * 2048 * 0.5625]);
  });
  it("refuses dtypes MLX has no cache for, and K≠V", () => {
    expect(() => kv(llama, dep(256, { kvDtypeK: "fp8", kvDtypeV: "fp8" }))).toThrow(InputError);
    expect(() => kv(llama, dep(256, { kvDtypeK: "q8_0", kvDtypeV: "q8_0" }))).toThrow(/MLX/);
    expect(() => kv(llama, dep(256, { kvDtypeK: "q8", kvDtypeV: "bf16" }))).toThrow(/one KV cache dtype/);
  });
});

describe("sliding windows: RotatingKVCache only where mlx_lm's make_cache asks for it", () => {
  const sliding: CacheSpec = { kind: "sliding", nKvHeads: 8, headDimK: 128, headDimV: 128, window: 1024 };
  const full: CacheSpec = { kind: "full", nKvHeads: 8, headDimK: 128, headDimV: 128 };
  const per = 8 * 128 * 2 * 2;
  it("gemma3_text: sliding layers stop at the window, full layers grow", () => {
    const m = cacheModel("gemma3_text", [sliding, full]);
    expect(profile.cache(m, dep(5000)).perLayer).toEqual([1024 * per, 5120 * per]);
    expect(profile.cache(m, dep(700)).perLayer).toEqual([768 * per, 768 * per]);
  });
  it("during prefill a rotating layer holds window - 1 + chunk tokens (RotatingKVCache._update_concat)", () => {
    const m = cacheModel("gemma3_text", [sliding]);
    const plain = cacheModel("gemma2", [sliding]); // no RotatingKVCache: full KVCache, no excess
    const a = profile.activations(m, dep(8192)).bytes - 1024 * per; // minus the one-layer growth copy
    const b = profile.activations(plain, dep(8192)).bytes - 8192 * per;
    expect(a - b).toBe((1024 - 1 + 2048 - 1024) * per);
  });
  it("mistral (llama.py without layer_types): the window is ignored and a warning says so", () => {
    const mistral = modelFromHfConfig({ ...LLAMA_8B, model_type: "mistral", vocab_size: 32000, sliding_window: 4096 }, "mistral-7b-v0.1");
    expect(mistral.layers[0].cache.kind).toBe("sliding");
    expect(kv(mistral, dep(8192))).toBe(8192 * PER_TOKEN_BF16);
    expect(profile.warnings(mistral, dep(8192)).join(" ")).toMatch(/full KVCache/);
  });
  it("a quantized cache on a rotating layer is refused (RotatingKVCache Quantization NYI)", () => {
    expect(() => kv(cacheModel("gemma3_text", [sliding, full]), dep(100, { kvDtypeK: "q4", kvDtypeV: "q4" }))).toThrow(/NYI/);
  });
});

describe("--max-kv-size: RotatingKVCache(max_kv_size) for models without make_cache", () => {
  const qwen2 = modelFromHfConfig({ ...LLAMA_8B, model_type: "qwen2", use_sliding_window: false }, "qwen2-like");
  it("caps every layer for a qwen2 model", () => {
    expect(kv(qwen2, dep(20000, { options: { maxKvSize: 4096 } }))).toBe(4096 * PER_TOKEN_BF16);
  });
  it("is ignored (with a warning) for llama, whose model defines make_cache", () => {
    expect(kv(llama, dep(20000, { options: { maxKvSize: 4096 } }))).toBe(20224 * PER_TOKEN_BF16);
    expect(profile.warnings(llama, dep(20000, { options: { maxKvSize: 4096 } })).join(" ")).toMatch(/ignored/);
  });
});

describe("MLA and recurrent state", () => {
  const mla: CacheSpec = { kind: "mla", nHeads: 16, kvLoraRank: 512, ropeDim: 64, qkNopeHeadDim: 128, vHeadDim: 128 };
  it("deepseek_v3 caches the latent (kv_lora_rank + rope), deepseek_v2 expanded heads", () => {
    expect(kv(cacheModel("deepseek_v3", [mla]), dep(256))).toBe(256 * (512 + 64) * 2);
    expect(kv(cacheModel("deepseek_v2", [mla]), dep(256))).toBe(256 * (16 * (128 + 64) + 16 * 128) * 2);
  });
  it("deepseek_v3 prefill materializes rope scores (×2 with the mask) and expands the latent per head", () => {
    const ctx = 4096;
    const a = profile.activations(cacheModel("deepseek_v3", [mla]), dep(ctx)).bytes;
    const b = profile.activations(cacheModel("deepseek_v2", [mla]), dep(ctx)).bytes;
    // same model without the latent-MLA prefill path: deepseek_v2 (expanded cache, whose copy is larger instead)
    const growV3 = 4096 * 576 * 2;
    const growV2 = 4096 * 5120 * 2;
    expect(a - growV3 - (b - growV2)).toBe((2 * 16 * 2048 * ctx + 16 * ctx * (128 + 128)) * 2);
  });
  it("SSM state is per sequence: conv in the model dtype, state in float32", () => {
    const m = cacheModel("mamba2", [{ kind: "recurrent", variant: "mamba2", convElems: 1000, stateElems: 5000 }]);
    expect(kv(m, dep(100))).toBe(1000 * 2 + 5000 * 4);
    expect(kv(m, dep(100000, { seqs: 2 }))).toBe(2 * (1000 * 2 + 5000 * 4));
  });
});

describe("plan() with the MLX profile", () => {
  it("adds weights, KV and the activation estimate, each with its basis", () => {
    const p = plan(llama, dep(2048), engine("mlx"));
    expect(p.memory.kvCacheBytes).toBe(2048 * PER_TOKEN_BF16);
    expect(p.memory.weightsBytes).toBe(Math.round(8_030_261_248 * 0.5625 + 32 * 2 * 4096 * (2 - 0.5625) + 4096 * (2 - 0.5625)));
    expect(p.memory.activationBytes).toBeGreaterThan(0);
    expect(p.basis.join("\n")).toMatch(/cache\.py/);
    expect(p.basis.join("\n")).toMatch(/estimate: one prefill chunk of min\(context, prefill_step_size = 2048/);
  });
  it("the prefill chunk follows --prefill-step-size", () => {
    const a = plan(llama, dep(8192), engine("mlx")).memory.activationBytes;
    const b = plan(llama, dep(8192, { options: { prefillStepSize: 512 } }), engine("mlx")).memory.activationBytes;
    expect(b).toBeLessThan(a);
  });
});

describe("CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "hwl-mlx-"));
  const cfg = join(dir, "config.json");
  writeFileSync(cfg, JSON.stringify(LLAMA_8B));
  it("hwledger plan --engine mlx --weights mlx-4bit --kv-dtype q8", () => {
    const r = runCliJson(["plan", "--model", cfg, "--engine", "mlx", "--weights", "mlx-4bit", "--kv-dtype", "q8", "--context", "1000"]);
    expect(r.memory.kvCacheBytes).toBe(1024 * (PER_TOKEN_BF16 / 2) * 1.0625);
  });
  it("an fp8 KV cache on MLX is a bad input: exit 2, one line", () => {
    const r = runCli(["plan", "--model", cfg, "--engine", "mlx", "--kv-dtype", "fp8", "--context", "1000"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/MLX/);
  });
});
