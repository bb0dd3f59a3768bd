// Gemma 4 (lib/calc/arch/gemma4.ts): the shipped 26B-A4B config, parameter counts against Google's published figures,
// and real engine output: vLLM 0.25.1 serving the 26B-A4B (AWQ) and llama.cpp b8680 serving the E4B (PLE + KV-shared
// layers). Engine logs: data/evidence/logs/ (sources in SOURCES-vllm.md / SOURCES-llamacpp.md).
import { describe, expect, it } from "vitest";
import { llamaCppCaches, makeDeployment, modelFromHfConfig, paramCounts, plan } from "../../lib/calc/index.js";
import type { ModelSpec, TensorSpec } from "../../lib/calc/index.js";
import { vllmKvFromBudget } from "../../lib/calc/engines/vllm.js";
import { evidenceLog } from "../../loaders/evidence/index.js";
import { resolveModel } from "../../loaders/models.js";
import { parseLlamaCppLog } from "../../plugins/engine-llamacpp/index.js";
import { parseVllmLog } from "../../plugins/engine-vllm/index.js";

const log = (f: string) => evidenceLog(f);
const B = 1e9;
const GIB = 2 ** 30;
const MIB = 2 ** 20;
const elems = (t: TensorSpec) => t.shape.reduce((a, b) => a * b, 1);

async function gemma26b(): Promise<ModelSpec> {
  return (await resolveModel("google/gemma-4-26B-A4B-it", { offline: true })).model;
}

describe("Gemma 4 26B-A4B (catalog config, ai-dynamo/aiconfigurator@0b077da5)", () => {
  it("5 sliding (1024 tokens, 8 KV heads × 256) : 1 global (2 KV heads × 512, V cached, no v_proj); MoE beside the dense MLP on every layer", async () => {
    const m = await gemma26b();
    expect(m).toMatchObject({ family: "gemma4", modelType: "gemma4", hiddenSize: 2816, vocabSize: 262144, nHeads: 16, maxContext: 262144, tiedEmbeddings: true });
    expect(m.layers).toHaveLength(30);
    const full = m.layers.filter((l) => l.cache.kind === "full").map((l) => l.index);
    expect(full).toEqual([5, 11, 17, 23, 29]);
    for (const l of m.layers) {
      const t = Object.fromEntries(l.tensors.map((x) => [x.name.slice(`blk.${l.index}.`.length), x]));
      const global = full.includes(l.index);
      // attention_k_eq_v: full layers have no v_proj, but every engine caches V (see gemma4.ts header).
      expect(l.cache).toEqual(global ? { kind: "full", nKvHeads: 2, headDimK: 512, headDimV: 512 } : { kind: "sliding", nKvHeads: 8, headDimK: 256, headDimV: 256, window: 1024 });
      expect(t.attn_q.shape).toEqual([2816, 16 * (global ? 512 : 256)]);
      expect(t.attn_k.shape).toEqual([2816, global ? 1024 : 2048]);
      expect(t.attn_v?.shape).toEqual(global ? undefined : [2816, 2048]);
      expect(t.ffn_gate).toMatchObject({ shape: [2816, 2112], role: "ffn" });
      expect(t.ffn_gate_exps).toMatchObject({ shape: [2816, 704, 128], role: "expert" });
      expect(t.ffn_down_exps).toMatchObject({ shape: [704, 2816, 128], role: "expert" });
      expect(t.ffn_gate_inp).toMatchObject({ shape: [2816, 128], role: "router" });
      expect(l.moe).toEqual({ experts: 128, activeExperts: 8, sharedExperts: 1 });
      expect(t.inp_gate).toBeUndefined(); // hidden_size_per_layer_input 0: no per-layer embeddings
    }
    expect(m.globals.map((g) => g.name)).toEqual(["token_embd", "output_norm"]); // tied
  });

  // Vision: Gemma4VisionPatchEmbedder 3·16²·1152 + 2·10240·1152 position table; 27 layers of 4 norms, q/k/v/o
  // 4·1152·(16·72), q/k norms 2·72, GeGLU 3·1152·4304; std_bias/std_scale 2·1152 (standardize); embed_vision 1152·2816.
  it("vision tower + embedder: 572,794,416 parameters", async () => {
    const m = await gemma26b();
    const layer = 4 * 1152 + 4 * 1152 * 1152 + 2 * 72 + 3 * 1152 * 4304;
    expect(m.vision!.params).toBe(3 * 256 * 1152 + 2 * 10240 * 1152 + 27 * layer + 2 * 1152 + 1152 * 2816);
    expect(m.vision!.params).toBe(572_794_416);
  });

  // google/gemma-4-26B-A4B-it model card ("Model details"): Total Parameters 25.2B, Active Parameters 3.8B,
  // Vision Encoder Parameters ~550M (quoted the same by the card's mirrors, e.g. huggingface.co/OpenExplorer/gemma-4-26B-A4B-it
  // "Parameter counts follow the upstream model details" and vast.ai/model/gemma-4-26b-a4b-it).
  it("parameters: 25.2B total and 3.8B active for the text model, ~550M vision (model card)", async () => {
    const m = await gemma26b();
    const p = paramCounts(m);
    const text = p.total - m.vision!.params;
    const activeText = p.active - m.vision!.params;
    // The card's 25.2B is the text model with its (tied) embedding; with the tower it would be 25.8B.
    expect(text).toBe(25_233_141_790);
    expect(Math.abs(text - 25.2 * B) / (25.2 * B)).toBeLessThan(0.005);
    // Active = attention + dense MLP + 8/128 of the experts + router + norms + the 0.74B embedding (Qwen/Mistral convention).
    // "3.8B" at one decimal: [3.75B, 3.85B); the count is 3.8225B.
    expect(activeText).toBeGreaterThanOrEqual(3.75 * B);
    expect(activeText).toBeLessThan(3.85 * B);
    expect(p.embedding).toBe(262144 * 2816);
    // "~550M" is the tower and embedder without the 23.6M learned 2D position table (549.2M); with it, 572.8M.
    expect(Math.round((m.vision!.params - 2 * 10240 * 1152) / 1e7) * 1e7).toBe(550e6);
  });
});

describe("vLLM 0.25.1: cyankiwi/gemma-4-26B-A4B-it AWQ, max_model_len 262144 (vllm-startup-gemma4-26b-a4b-awq-0.25.1.log)", () => {
  const text = log("vllm-startup-gemma4-26b-a4b-awq-0.25.1.log");
  const facts = parseVllmLog(text);

  it("the printed KV tokens and concurrency fall in the range planned from 83.89 GiB ± 0.005", async () => {
    const m = await gemma26b();
    expect(facts).toMatchObject({ version: "0.25.1", maxModelLen: 262144, kvCacheDtype: "auto", dtype: "float16", kvCapacityTokens: 3875400, maxConcurrency: 14.78 });
    // The log's scheduler line: vLLM raises max_num_batched_tokens from 2048 to 2496 for this prefix-LM multimodal model
    // (arg_utils "to accommodate 'video' input"); sliding-window admission (cdiv(window − 1 + mnbt, block) + 1 blocks)
    // depends on it. parseVllmLog does not read this line, so the test does.
    const mnbt = Number(/Chunked prefill is enabled with max_num_batched_tokens=(\d+)/.exec(text)![1]);
    expect(mnbt).toBe(2496);
    // kv_cache_dtype auto = the fp16 model dtype: 2 bytes, as bf16.
    const dep = makeDeployment(m, { engine: "vllm", context: 262144, kvDtype: "bf16", options: { vllmVersion: "0.25.1", maxNumBatchedTokens: mnbt } });
    const lo = vllmKvFromBudget(m, dep, [(83.89 - 0.005) * GIB]);
    const hi = vllmKvFromBudget(m, dep, [(83.89 + 0.005) * GIB]);
    // Layout: 25 sliding layers of 8·(256+256)·2 = 8192 B/token, 5 full of 2·(512+512)·2 = 4096 B/token (V cached);
    // page unification doubles the full layers' block (16 → 32 tokens); group size 5 → 5 sliding groups + 1 full.
    // Per request: 8192 full blocks + 5 × (cdiv(1023 + 2496, 16) + 1) = 9297; blocks = available // (131072 × 5).
    expect(lo.kvCapacityTokens).toBeLessThanOrEqual(facts.kvCapacityTokens!);
    expect(hi.kvCapacityTokens).toBeGreaterThanOrEqual(facts.kvCapacityTokens!);
    for (const r of [lo, hi]) expect(r.maxConcurrency.toFixed(2)).toBe("14.78");
    // Without the raise (the scheduler default of 2048) the same budget would print ≈ 15.01x / 3.93M tokens, and
    // without V in the cache of the k_eq_v layers ≈ 26x: the printed figures confirm both rules.
    // The profile applies the raise itself when no --max-num-batched-tokens is given (vllmDefaultBatchedTokens: the
    // largest video item of gemma4_mm.py, 32 × 78 = 2496 tokens).
    expect(m.vision?.prefixLmItemTokens).toBe(mnbt);
    const byDefault = makeDeployment(m, { engine: "vllm", context: 262144, kvDtype: "bf16", options: { vllmVersion: "0.25.1" } });
    expect(vllmKvFromBudget(m, byDefault, [83.89 * GIB])).toEqual(vllmKvFromBudget(m, dep, [83.89 * GIB]));
  });
});

describe("llama.cpp b8680: Gemma 4 E4B Q8_0, n_ctx 65536, iSWA (llamacpp-server-gemma4-e4b-q8-metal-m4-swa-b8680.log)", () => {
  const text = log("llamacpp-server-gemma4-e4b-q8-metal-m4-swa-b8680.log");
  // gemma4_text fields transcribed from the log's GGUF metadata / print_info lines: block_count 42, embedding_length 2560,
  // feed_forward_length 10240 (one value: no double-wide MLP), head_count 8, head_count_kv 2, key/value_length 512,
  // key/value_length_swa 256, sliding_window 512, shared_kv_layers 18, embedding_length_per_layer_input 256,
  // n_vocab 262144, context_length 131072; full attention every 6th layer (n_embd_k_gqa: 1024 at 5, 11, …, 41).
  // vocab_size_per_layer_input is not printed: Gemma4TextConfig's default 262144.
  const e4b = modelFromHfConfig(
    {
      model_type: "gemma4_text", hidden_size: 2560, num_hidden_layers: 42, intermediate_size: 10240, num_attention_heads: 8,
      num_key_value_heads: 2, head_dim: 256, global_head_dim: 512, sliding_window: 512, num_kv_shared_layers: 18,
      hidden_size_per_layer_input: 256, vocab_size: 262144, max_position_embeddings: 131072, attention_k_eq_v: false,
      layer_types: Array.from({ length: 42 }, (_, i) => ((i + 1) % 6 ? "sliding_attention" : "full_attention")),
    },
    "google/gemma-4-E4B-it (transcribed)",
  );

  it("KV caches equal the printed llama_kv_cache lines: 4 full layers × 65536 cells, 20 SWA layers × 1024 cells", () => {
    const printed = parseLlamaCppLog(text);
    expect(printed.kvCaches.map((k) => [k.cells, k.layers])).toEqual([[65536, 4], [1024, 20]]);
    // The 18 KV-shared layers (24–41) keep no cache: 4 of the 24 own-KV layers are global, 20 slide.
    expect(e4b.layers.filter((l) => l.cache.kind === "none").map((l) => l.index)).toEqual(Array.from({ length: 18 }, (_, i) => 24 + i));
    const dep = makeDeployment(e4b, { engine: "llama.cpp", context: 65536, seqs: 1, kvDtype: "f16", options: { ubatch: 512 } });
    const c = llamaCppCaches(e4b, dep);
    expect([c.base.cells, c.base.layers, c.base.kBytes, c.base.vBytes]).toEqual([65536, 4, 512 * MIB, 512 * MIB]);
    expect([c.swa.cells, c.swa.layers, c.swa.kBytes, c.swa.vBytes]).toEqual([1024, 20, 20 * MIB, 20 * MIB]);
    expect(plan(e4b, dep, { layers: false }).memory.kvCacheBytes).toBe(1064 * MIB);
    expect(printed.kvCacheBytes).toBe(1064 * MIB);
  });

  it("parameters: llama.cpp's 'model params = 7.52 B' counts the shared layers' k/v tensors the checkpoint keeps", () => {
    expect(text).toContain("print_info: model params          = 7.52 B");
    const total = paramCounts(e4b).total;
    expect((total / B).toFixed(2)).toBe("7.52");
    // Per-layer embeddings: 262144 × 42·256 table + 2560 → 42·256 projection dominate the non-block weights.
    expect(e4b.globals.find((g) => g.name === "per_layer_token_embd")!.shape).toEqual([42 * 256, 262144]);
    const shared = e4b.layers.filter((l) => l.cache.kind === "none").flatMap((l) => l.tensors.filter((t) => /attn_(k|v|k_norm)$/.test(t.name)));
    // Without them the count would print 7.46 B: the GGUF's 720 tensors (17 per layer + 6) include them.
    expect(((total - shared.reduce((a, t) => a + elems(t), 0)) / B).toFixed(2)).toBe("7.46");
  });
});

describe("gemma4 config rules", () => {
  const base = { model_type: "gemma4_text", hidden_size: 256, num_hidden_layers: 6, intermediate_size: 512, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 64, global_head_dim: 128, vocab_size: 1024, hidden_size_per_layer_input: 0 };

  it("default layer_types are 5 sliding : 1 full; full layers take global_head_dim and, only with k_eq_v, the global KV heads", () => {
    const plain = modelFromHfConfig({ ...base, num_global_key_value_heads: 1 }, "g");
    expect(plain.layers.map((l) => l.kind)).toEqual(["sliding", "sliding", "sliding", "sliding", "sliding", "attention"]);
    expect(plain.layers[5].cache).toEqual({ kind: "full", nKvHeads: 2, headDimK: 128, headDimV: 128 });
    expect(plain.layers[0].cache).toMatchObject({ kind: "sliding", window: 512 }); // Gemma4TextConfig default sliding_window
    const keqv = modelFromHfConfig({ ...base, attention_k_eq_v: true, num_global_key_value_heads: 1 }, "g");
    expect(keqv.layers[5].cache).toEqual({ kind: "full", nKvHeads: 1, headDimK: 128, headDimV: 128 });
    expect(keqv.layers[5].tensors.some((t) => t.name === "blk.5.attn_v")).toBe(false);
    expect(keqv.layers[4].tensors.some((t) => t.name === "blk.4.attn_v")).toBe(true);
  });

  it("the last layer is forced global; double-wide MLP only on KV-shared layers; missing MoE fields are named", () => {
    const lt = ["sliding_attention", "full_attention", "sliding_attention", "sliding_attention", "full_attention", "sliding_attention"];
    const m = modelFromHfConfig({ ...base, layer_types: lt, num_kv_shared_layers: 2, use_double_wide_mlp: true }, "g");
    expect(m.layers[5].cache.kind).toBe("none");
    expect(m.notes.join(" ")).toContain("layer 5 forced to full_attention");
    const ffn = (i: number) => m.layers[i].tensors.find((t) => t.name === `blk.${i}.ffn_up`)!.shape;
    expect([ffn(3), ffn(4), ffn(5)]).toEqual([[256, 512], [256, 1024], [256, 1024]]);
    expect(() => modelFromHfConfig({ ...base, enable_moe_block: true }, "g")).toThrow(/num_experts, top_k_experts, moe_intermediate_size/);
  });
});
