// Parameter counts of the MoE, MLA, SSM and hybrid families against the figures their model cards publish.
// Conventions differ between publishers and each test says which one its card uses:
//  - "total" counts every resident weight (all experts, embeddings, lm_head);
//  - Mistral, Qwen and NVIDIA "active" includes the embedding and lm_head rows;
//  - DeepSeek, Moonshot and OpenAI "active" excludes the input embedding (a lookup, not compute) but keeps the
//    output head: DeepSeek-V3 README_WEIGHTS.md "Activation parameters: 36.6B (including 0.9B for the output Head)",
//    gpt-oss model card table 1 "Active Parameters 5.13B / 3.61B" (= 116.83B total minus the unused experts and the embedding).
// Where the card gives a rounded figure the tolerance follows that rounding and the test says so; otherwise 0.5%.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { modelFromHfConfig, paramCounts, parseConfigText, InputError } from "../../lib/calc/index.js";
import type { ModelSpec } from "../../lib/calc/index.js";

const CONFIGS = new URL("../../loaders/catalog/configs/", import.meta.url);
function catalogModel(file: string): ModelSpec {
  return modelFromHfConfig(JSON.parse(readFileSync(new URL(file, CONFIGS), "utf8")), file);
}
const B = 1e9;
function within(actual: number, expected: number, rel = 0.005): void {
  expect(Math.abs(actual - expected) / expected, `${actual} vs ${expected}`).toBeLessThanOrEqual(rel);
}
/** Active parameters without the input embedding rows (the DeepSeek/Moonshot/OpenAI convention). */
const activeNoEmbed = (m: ModelSpec) => paramCounts(m).active - paramCounts(m).embedding;

describe("MoE parameter counts vs model cards", () => {
  it("Mixtral 8x7B: 46.7B total, 12.9B active (mistral.ai/news/mixtral-of-experts)", () => {
    const p = paramCounts(catalogModel("mixtral-8x7b-v0.1.json"));
    within(p.total, 46.7 * B);
    within(p.active, 12.9 * B);
  });

  it("Mixtral 8x22B: 141B total, 39B active (mistral.ai/news/mixtral-8x22b)", () => {
    const p = paramCounts(catalogModel("mixtral-8x22b-v0.1.json"));
    within(p.total, 141 * B);
    within(p.active, 39 * B);
  });

  it("Qwen3-30B-A3B: 30.5B total, 29.9B non-embedding, 3.3B activated (HF card Qwen/Qwen3-30B-A3B)", () => {
    const m = catalogModel("qwen3-30b-a3b.json");
    const p = paramCounts(m);
    within(p.total, 30.5 * B);
    // "Number of Parameters (Non-Embedding): 29.9B": total minus token_embd and output.
    within(p.total - 2 * p.embedding, 29.9 * B);
    // 3.3B is given to one decimal, truncated (the count is 3.353B): it lies in [3.3B, 3.4B).
    expect(p.active).toBeGreaterThanOrEqual(3.3 * B);
    expect(p.active).toBeLessThan(3.4 * B);
    expect(m.layers.every((l) => l.moe?.experts === 128 && l.moe.activeExperts === 8 && l.moe.sharedExperts === 0)).toBe(true);
  });

  it("Qwen3-235B-A22B: 235B total, 22B activated (HF card Qwen/Qwen3-235B-A22B)", () => {
    const p = paramCounts(catalogModel("qwen3-235b-a22b.json"));
    within(p.total, 235 * B);
    // Card gives whole billions: 22B means [21.5B, 22.5B).
    expect(Math.round(p.active / B)).toBe(22);
  });

  it("DeepSeek-V3 and R1: 671B main model, 36.6B activated incl. the 0.9B head (DeepSeek-V3 README_WEIGHTS.md)", () => {
    for (const f of ["deepseek-v3.json", "deepseek-r1.json"]) {
      const m = catalogModel(f);
      // The card's 685B adds the 14B multi-token-prediction module, which plain inference does not load.
      within(paramCounts(m).total, 671 * B);
      within(activeNoEmbed(m), 36.6 * B);
      expect(m.notes.join(" ")).toContain("num_nextn_predict_layers=1");
      expect(m.nativeQuant).toBe("fp8");
    }
  });

  it("Kimi K2: 1T total, 32B activated (HF card moonshotai/Kimi-K2-Instruct)", () => {
    const m = catalogModel("kimi-k2-instruct.json");
    // "1T" has one significant figure; the count (1.026T) must round to 1.0T at one decimal.
    expect(Math.round(paramCounts(m).total / 1e11) / 10).toBe(1);
    // DeepSeek convention (no input embedding); "32B" in whole billions.
    expect(Math.round(activeNoEmbed(m) / B)).toBe(32);
    expect(m.layers[0].moe).toBeUndefined();
    expect(m.layers[1].moe).toEqual({ experts: 384, activeExperts: 8, sharedExperts: 1 });
  });

  it("gpt-oss-120b: 116.83B total, 5.13B active; gpt-oss-20b: 20.91B, 3.61B (gpt-oss model card, table 1)", () => {
    const big = catalogModel("gpt-oss-120b.json");
    within(paramCounts(big).total, 116.83 * B);
    within(activeNoEmbed(big), 5.13 * B);
    const small = catalogModel("gpt-oss-20b.json");
    within(paramCounts(small).total, 20.91 * B);
    within(activeNoEmbed(small), 3.61 * B);
  });

  it("Qwen3-Next-80B-A3B: 80B total, 79B non-embedding, 3B activated (HF card Qwen/Qwen3-Next-80B-A3B-Instruct)", () => {
    const p = paramCounts(catalogModel("qwen3-next-80b-a3b.json"));
    within(p.total, 80 * B);
    // Card figures are whole billions: 79B non-embedding and "3B activated" (non-embedding active, 3.25B).
    expect(Math.round((p.total - 2 * p.embedding) / B)).toBe(79);
    expect(Math.round((p.active - 2 * p.embedding) / B)).toBe(3);
  });

  it("Qwen3.5-35B-A3B: text model 34.66B as llama.cpp prints it, 35B with the vision tower (HF card Qwen/Qwen3.5-35B-A3B)", () => {
    const m = catalogModel("qwen3.5-35b-a3b.json");
    const p = paramCounts(m);
    // llama.cpp log github.com/MrSnowNB/nemoclaw-setup llama_server.log@1205ab50 (shared sample llamacpp-server-qwen3.5-35b-a3b-q8-cuda-4xa6000.log):
    // "print_info: model params = 34.66 B" (the GGUF holds the text model; the vision tower is a separate mmproj).
    within(p.total - m.vision!.params, 34.66 * B);
    // The card's "35B in total" is given in whole billions.
    expect(Math.round(p.total / B)).toBe(35);
    expect(m.notes.join(" ")).toContain("mtp_num_hidden_layers=1");
  });

  it("Nemotron 3 Nano 30B-A3B: 31.6B total, 3.2B active, 3.6B with embeddings (HF card nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16)", () => {
    const m = catalogModel("nemotron-3-nano-30b-a3b.json");
    const p = paramCounts(m);
    within(p.total, 31.6 * B);
    // "approximately 3.2B active (3.6B including embeddings)": one decimal, so rounding to one decimal.
    expect(Math.round(p.active / 1e8) / 10).toBe(3.6);
    expect(Math.round(activeNoEmbed(m) / 1e8) / 10).toBe(3.2);
    expect(m.layers.filter((l) => l.kind === "attention")).toHaveLength(6);
    expect(m.layers.filter((l) => l.kind === "mamba2")).toHaveLength(23);
    expect(m.layers.filter((l) => l.moe)).toHaveLength(23);
  });

  // HF card deepseek-ai/DeepSeek-V2-Lite: "16B total params, 2.4B active params"; model page (safetensors) 15.7B.
  it("DeepSeek-V2-Lite (verbatim config): 15.7B total, 2.4B activated, same count as the transcribed fixture below", () => {
    const m = catalogModel("deepseek-v2-lite.json");
    const p = paramCounts(m);
    within(p.total, 15.7 * B);
    // DeepSeek convention (no input embedding), truncated to one decimal like the card: [2.4B, 2.5B).
    expect(activeNoEmbed(m)).toBeGreaterThanOrEqual(2.4 * B);
    expect(activeNoEmbed(m)).toBeLessThan(2.5 * B);
    // The config carries "q_lora_rank": null explicitly, so no default query compression is applied.
    expect(m.layers[1].tensors.map((t) => t.name)).not.toContain("blk.1.attn_q_a");
  });

  it("Mamba 2.8B: the checkpoint name's 2.8B at one decimal (state-spaces/mamba-2.8b-hf)", () => {
    const p = paramCounts(catalogModel("mamba-2.8b-hf.json"));
    expect(Math.round(p.total / 1e8) / 10).toBe(2.8);
    // Tied lm_head: the embedding appears once.
    expect(p.total - p.embedding).toBe(p.perLayer.reduce((a, b) => a + b, 0) + 2560);
  });

  it("Mamba2 2.7B: 2.7B at one decimal (state-spaces/mamba2-2.7b), the same model as its transformers conversion", () => {
    const m = catalogModel("mamba2-2.7b.json");
    expect(Math.round(paramCounts(m).total / 1e8) / 10).toBe(2.7);
    // transformers convert_mamba2_ssm_checkpoint_to_pytorch.py convert_ssm_config_to_hf_config: hidden d_model,
    // num_heads = 2 d_model / head_dim, vocab padded to pad_vocab_size_multiple, embeddings tied as in the original.
    const hf = modelFromHfConfig({
      model_type: "mamba2", hidden_size: 2560, num_hidden_layers: 64, vocab_size: 50288, num_heads: 80, head_dim: 64,
      n_groups: 1, state_size: 128, expand: 2, conv_kernel: 4, tie_word_embeddings: true,
    });
    expect(paramCounts(m)).toEqual(paramCounts(hf));
    expect(m.layers.map((l) => l.cache)).toEqual(hf.layers.map((l) => l.cache));
  });

  it("Mamba2 defaults follow Mamba2Config (8 groups, untied lm_head), and Python's Infinity in config.json is accepted", () => {
    // The shape of a transformers Mamba2 config.json as json.dump writes it: time_step_limit (0.0, inf) -> Infinity.
    const text = '{"model_type": "mamba2", "hidden_size": 4096, "num_hidden_layers": 64, "vocab_size": 32768, "num_heads": 128, "head_dim": 64, "state_size": 128, "time_step_limit": [0.0, Infinity], "name": "NaN Infinity"}';
    const cfg = parseConfigText(text, "codestral");
    expect(cfg.time_step_limit).toEqual([0, Infinity]);
    expect(cfg.name).toBe("NaN Infinity");
    const m = modelFromHfConfig(cfg, "codestral");
    expect(m.tiedEmbeddings).toBe(false);
    expect(m.layers[0].cache).toMatchObject({ convElems: 3 * (8192 + 2 * 8 * 128) });
    expect(() => parseConfigText('{"a": Infinityx}', "bad")).toThrow(/^bad: malformed config\.json/);
  });
});

// Families without a shipped verbatim config: fixtures hold the field values of the real config.json as
// transcribed by the cited project (not byte-verbatim; the source is given per fixture).
describe("families tested from transcribed configs", () => {
  // mlc-ai/mlc-llm@d1ea69a8 python/mlc_llm/model/model_preset.py "qwen2moe" (Qwen/Qwen1.5-MoE-A2.7B).
  const qwen15 = {
    architectures: ["Qwen2MoeForCausalLM"], hidden_size: 2048, intermediate_size: 5632, max_position_embeddings: 32768, model_type: "qwen2_moe",
    num_attention_heads: 16, num_hidden_layers: 24, num_key_value_heads: 16, tie_word_embeddings: false, vocab_size: 151936,
    decoder_sparse_step: 1, moe_intermediate_size: 1408, shared_expert_intermediate_size: 5632, num_experts_per_tok: 4, num_experts: 60,
  };
  it("Qwen1.5-MoE-A2.7B: the verbatim catalog config (a fine-tune's copy of the base) gives the same count as this fixture", () => {
    const v = catalogModel("qwen1.5-moe-a2.7b.json");
    within(paramCounts(v).total, 14.3 * B);
    within(paramCounts(v).active, 2.7 * B);
    expect(paramCounts(v).total).toBe(paramCounts(modelFromHfConfig(qwen15)).total);
    expect(paramCounts(v).active).toBe(paramCounts(modelFromHfConfig(qwen15)).active);
    expect(v.maxContext).toBe(8192);
  });
  it("Qwen1.5-MoE-A2.7B: 14.3B total, 2.7B activated (HF card Qwen/Qwen1.5-MoE-A2.7B)", () => {
    const m = modelFromHfConfig(qwen15);
    const p = paramCounts(m);
    within(p.total, 14.3 * B);
    within(p.active, 2.7 * B);
    const names = m.layers[0].tensors.map((t) => t.name);
    expect(names).toContain("blk.0.ffn_gate_inp_shexp");
    expect(names).toContain("blk.0.attn_q.bias");
    expect(m.layers[0].moe).toEqual({ experts: 60, activeExperts: 4, sharedExperts: 1 });
  });

  // mlc-ai/mlc-llm@d1ea69a8 model_preset.py "deepseek_v2_lite" (deepseek-ai/DeepSeek-V2-Lite); that copy drops the
  // null "q_lora_rank", which the HF config sets (no query compression in V2-Lite), so it is restored here.
  const v2lite = {
    architectures: ["DeepseekV2ForCausalLM"], first_k_dense_replace: 1, hidden_size: 2048, intermediate_size: 10944, kv_lora_rank: 512,
    model_type: "deepseek_v2", moe_intermediate_size: 1408, moe_layer_freq: 1, n_group: 1, n_routed_experts: 64, n_shared_experts: 2,
    num_attention_heads: 16, num_experts_per_tok: 6, num_hidden_layers: 27, num_key_value_heads: 16, q_lora_rank: null,
    qk_nope_head_dim: 128, qk_rope_head_dim: 64, topk_method: "greedy", v_head_dim: 128, vocab_size: 102400,
  };
  it("DeepSeek-V2-Lite: 15.7B total, 2.4B activated (HF card deepseek-ai/DeepSeek-V2-Lite)", () => {
    const m = modelFromHfConfig(v2lite);
    within(paramCounts(m).total, 15.7 * B);
    // DeepSeek convention (no input embedding), figure truncated to one decimal like the card's other figures: [2.4B, 2.5B).
    expect(activeNoEmbed(m)).toBeGreaterThanOrEqual(2.4 * B);
    expect(activeNoEmbed(m)).toBeLessThan(2.5 * B);
    const names = m.layers[1].tensors.map((t) => t.name);
    expect(names).toContain("blk.1.attn_q");
    expect(names).not.toContain("blk.1.attn_q_a");
    expect(names).not.toContain("blk.1.exp_probs_b");
    // Without the null the transformers default (q_lora_rank 1536) would apply and the count would change.
    const { q_lora_rank: _, ...noKey } = v2lite;
    expect(paramCounts(modelFromHfConfig(noKey)).total).not.toBe(paramCounts(m).total);
  });

  // transformers models/jamba/configuration_jamba.py: JambaConfig defaults reproduce ai21labs/Jamba-v0.1
  // (attn period 8 offset 4, expert period 2 offset 1, d_state 16, d_conv 4, expand 2, dt_rank ceil(4096/16)).
  const jamba = {
    model_type: "jamba", hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32,
    num_key_value_heads: 8, num_experts: 16, num_experts_per_tok: 2, vocab_size: 65536,
    attn_layer_period: 8, attn_layer_offset: 4, expert_layer_period: 2, expert_layer_offset: 1,
    mamba_d_state: 16, mamba_d_conv: 4, mamba_expand: 2, mamba_dt_rank: 256,
  };
  it("Jamba v0.1: 52B total, 12B active (transformers docs model_doc/jamba.md)", () => {
    const m = modelFromHfConfig(jamba);
    const p = paramCounts(m);
    // Whole billions on the card.
    expect(Math.round(p.total / B)).toBe(52);
    expect(Math.round(p.active / B)).toBe(12);
    expect(m.layers.filter((l) => l.kind === "attention").map((l) => l.index)).toEqual([4, 12, 20, 28]);
    expect(m.layers.filter((l) => l.moe).map((l) => l.index)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]);
  });
});

describe("bad input", () => {
  it("names the missing MLA fields", () => {
    expect(() => modelFromHfConfig({ model_type: "deepseek_v3", hidden_size: 7168 }, "x")).toThrow(InputError);
    expect(() => modelFromHfConfig({ model_type: "deepseek_v3", hidden_size: 7168 }, "x")).toThrow(/kv_lora_rank/);
  });
  it("rejects a hybrid pattern that does not match the layer count", () => {
    const c = JSON.parse(readFileSync(new URL("nemotron-3-nano-30b-a3b.json", CONFIGS), "utf8"));
    expect(() => modelFromHfConfig({ ...c, num_hidden_layers: 51 }, "x")).toThrow(/hybrid_override_pattern has 52 layers/);
    expect(() => modelFromHfConfig({ ...c, hybrid_override_pattern: c.hybrid_override_pattern.replace("*", "?") }, "x")).toThrow(/unknown block "\?"/);
  });
  it("rejects gpt-oss layer_types of the wrong length and a bad time-step rank", () => {
    const c = JSON.parse(readFileSync(new URL("gpt-oss-20b.json", CONFIGS), "utf8"));
    expect(() => modelFromHfConfig({ ...c, layer_types: ["full_attention"] }, "x")).toThrow(/layer_types has 1 entries/);
    const mamba = JSON.parse(readFileSync(new URL("mamba-2.8b-hf.json", CONFIGS), "utf8"));
    expect(() => modelFromHfConfig({ ...mamba, time_step_rank: "big" }, "x")).toThrow(InputError);
  });
});

// Configs copied from the model repositories' own Hugging Face pages (loaders/catalog/SOURCES.md).
describe("verbatim configs from the model repositories", () => {
  it("Jamba v0.1: 52B total, 12B active (model card ai21labs/Jamba-v0.1), same count as the transcribed JambaConfig fixture", () => {
    const m = catalogModel("jamba-v0.1.json");
    const p = paramCounts(m);
    // "12B active parameters and a total of 52B parameters across all experts": whole billions.
    expect(Math.round(p.total / B)).toBe(52);
    expect(Math.round(p.active / B)).toBe(12);
    const transcribed = modelFromHfConfig({
      model_type: "jamba", hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32,
      num_key_value_heads: 8, num_experts: 16, num_experts_per_tok: 2, vocab_size: 65536,
      attn_layer_period: 8, attn_layer_offset: 4, expert_layer_period: 2, expert_layer_offset: 1,
      mamba_d_state: 16, mamba_d_conv: 4, mamba_expand: 2, mamba_dt_rank: 256,
    });
    expect(p.total).toBe(paramCounts(transcribed).total);
    expect(p.active).toBe(paramCounts(transcribed).active);
    // Attention every 8th layer from 4; the other 28 keep a Mamba state: conv (4-1) x 8192, ssm 8192 x 16.
    expect(m.layers.filter((l) => l.cache.kind === "full").map((l) => l.index)).toEqual([4, 12, 20, 28]);
    expect(m.layers[0].cache).toEqual({ kind: "recurrent", variant: "mamba", convElems: 3 * 8192, stateElems: 8192 * 16 });
    expect(m.layers[4].cache).toEqual({ kind: "full", nKvHeads: 8, headDimK: 128, headDimV: 128 });
    expect(m.layers.filter((l) => l.moe?.experts === 16 && l.moe.activeExperts === 2)).toHaveLength(16);
    expect(m.maxContext).toBe(262144);
  });
});

// No verbatim Kimi-VL config.json was found (loaders/catalog/SOURCES.md), so the kimi-vl family is checked on a
// composed config: the shipped DeepSeek-V2-Lite config as text_config (the same DeepseekV2ForCausalLM text stack vLLM
// builds for Kimi-VL) and a MoonViT vision_config left to MoonViTConfig's defaults (vLLM configs/moonvit.py).
describe("kimi-vl family (composed config)", () => {
  const lite = JSON.parse(readFileSync(new URL("deepseek-v2-lite.json", CONFIGS), "utf8"));
  const kimi = { architectures: ["KimiVLForConditionalGeneration"], model_type: "kimi_vl", text_config: lite, vision_config: { model_type: "moonvit" } };

  it("text layers are the deepseek family's; the vision tower + projector follow vLLM moonvit.py / kimi_vl.py", () => {
    const m = modelFromHfConfig(kimi, "kimi-vl-composed");
    const text = modelFromHfConfig(lite, "lite");
    expect(m.family).toBe("kimi-vl");
    expect(m.modelType).toBe("kimi_vl");
    expect(m.layers).toEqual(text.layers);
    // MoonViT 1152 wide, 27 blocks, 4304 MLP, patch 14, 64×64 position table:
    //   patch embed 3·14·14·1152 + 1152 + 64·64·1152 = 5,397,120
    //   block 2·2·1152 + (1152·3456 + 3456) + (1152² + 1152) + (1152·4304 + 4304) + (4304·1152 + 1152) = 15,239,504 (×27)
    //   final LayerNorm 2304 → tower 416,866,032 (the "400M" of MoonViT-SO-400M)
    //   projector LayerNorm 2304 + linear_1 4608² + 4608 + linear_2 4608·2048 + 2048 = 30,679,808
    expect(m.vision?.params).toBe(416866032 + 30679808);
    expect(paramCounts(m).total).toBe(paramCounts(text).total + 416866032 + 30679808);
  });

  it("rejects a missing text_config, a non-DeepSeek text model and a malformed merge kernel with one-line input errors", () => {
    expect(() => modelFromHfConfig({ model_type: "kimi_vl", vision_config: {} }, "k")).toThrow(/no "text_config" object/);
    expect(() => modelFromHfConfig({ ...kimi, text_config: { ...lite, model_type: "llama" } }, "k")).toThrow(InputError);
    expect(() => modelFromHfConfig({ ...kimi, vision_config: { merge_kernel_size: [2] } }, "k")).toThrow(/merge_kernel_size/);
  });
});
