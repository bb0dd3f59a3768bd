// The MoE / MLA / SSM / hybrid part of the shipped catalog (loaders/catalog/manifest-moe.json): every entry loads
// offline, answers to its id, slug and aliases, and builds the per-layer specs its architecture implies.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalogConfig, catalogEntrySchema, findCatalogEntry } from "../../loaders/catalog.js";
import { resolveModel } from "../../loaders/models.js";
import { paramCounts } from "../../lib/calc/index.js";
import type { CacheSpec, ModelSpec } from "../../lib/calc/index.js";
import { runCliJson } from "../helpers/cli.js";
import { expectDerivedSource, expectNotedSource, isNotedSource } from "../helpers/catalog-source.js";

const DIR = new URL("../../loaders/catalog/", import.meta.url);
const entries = catalogEntrySchema.array().parse(JSON.parse(readFileSync(new URL("manifest-moe.json", DIR), "utf8")));

async function load(id: string): Promise<ModelSpec> {
  return (await resolveModel(id, { offline: true })).model;
}

describe("manifest-moe.json", () => {
  it("lists the required architectures", () => {
    const types = new Set(entries.map((e) => String(catalogConfig(e).model_type)));
    for (const t of ["mixtral", "qwen3_moe", "deepseek_v3", "kimi_k2", "gpt_oss", "mamba", "qwen3_next", "qwen3_5_moe", "nemotron_h", "jamba"]) expect(types).toContain(t);
    // Mamba2 ships as state-spaces' own mamba_ssm config (no model_type; ssm_cfg.layer names the mixer).
    expect(entries.some((e) => (catalogConfig(e).ssm_cfg as { layer?: string } | undefined)?.layer === "Mamba2")).toBe(true);
  });

  it.each(entries.map((e) => [e.id, e] as const))("%s: verbatim file, cited source, resolves offline by id, slug and aliases", async (_id, e) => {
    expect(existsSync(new URL("configs/" + e.file, DIR))).toBe(true);
    // A GitHub repository that vendors the file at a pinned commit, or the model's own Hugging Face repository.
    const fromHf = e.source.startsWith(`https://huggingface.co/${e.id}/`);
    if (fromHf) expect(e.source).toMatch(/^https:\/\/huggingface\.co\/[\w.-]+\/[\w.-]+\/(blob|blame)\/[^/ ]+\/config\.json /);
    // Or a derived repository's page (fine-tune or copy of the base) that the note names.
    else if (e.note?.startsWith("verbatim config.json of ")) expectDerivedSource(e);
    else expect(e.source).toMatch(/^github\.com\/[\w.-]+\/[\w.-]+\/blob\/[0-9a-f]{40}\//);
    // Hash-proven copies (loaders/catalog/sources/): the bytes hash to what the note states.
    if (isNotedSource(e)) expectNotedSource(e);
    expect(readFileSync(new URL("SOURCES.md", DIR), "utf8")).toContain(e.file);
    const r = await resolveModel(e.id, { offline: true });
    expect(r.origin).toBe("catalog");
    expect(r.model.id).toBe(e.id);
    const c = catalogConfig(e);
    expect(r.model.modelType).toBe(c.model_type ?? ((c.ssm_cfg as { layer?: string }).layer === "Mamba2" ? "mamba2" : "mamba"));
    expect(r.model.notes.join(" ")).not.toContain("generic");
    expect(paramCounts(r.model).total).toBeGreaterThan(1e9);
    for (const ref of [e.slug, ...e.aliases, e.id.toUpperCase()]) expect(findCatalogEntry(ref)?.id, ref).toBe(e.id);
  });
});

describe("per-layer specs", () => {
  it("DeepSeek-V3: MLA latent cache, 3 dense then 58 MoE layers, q_lora, score bias, shared expert", async () => {
    const m = await load("deepseek-ai/DeepSeek-V3");
    expect(m.layers).toHaveLength(61);
    const mla: CacheSpec = { kind: "mla", nHeads: 128, kvLoraRank: 512, ropeDim: 64, qkNopeHeadDim: 128, vHeadDim: 128 };
    expect(m.layers.every((l) => JSON.stringify(l.cache) === JSON.stringify(mla))).toBe(true);
    expect(m.layers.slice(0, 3).every((l) => !l.moe)).toBe(true);
    expect(m.layers.slice(3).every((l) => l.moe?.experts === 256 && l.moe.activeExperts === 8 && l.moe.sharedExperts === 1)).toBe(true);
    const t = Object.fromEntries(m.layers[3].tensors.map((x) => [x.name, x]));
    expect(t["blk.3.attn_q_a"].shape).toEqual([7168, 1536]);
    expect(t["blk.3.attn_q_b"].shape).toEqual([1536, 128 * 192]);
    expect(t["blk.3.attn_kv_a_mqa"].shape).toEqual([7168, 576]);
    expect(t["blk.3.ffn_gate_exps"]).toMatchObject({ shape: [7168, 2048, 256], role: "expert" });
    expect(t["blk.3.ffn_up_shexp"]).toMatchObject({ shape: [7168, 2048], role: "shared_expert" });
    expect(t["blk.3.ffn_gate_inp"].role).toBe("router");
    expect(t["blk.3.exp_probs_b"].shape).toEqual([256]);
    expect(m.layers[0].tensors.find((x) => x.name === "blk.0.ffn_gate")?.shape).toEqual([7168, 18432]);
  });

  it("gpt-oss-120b: sliding window 128 on even layers, full on odd, per-head sinks, biases, MXFP4", async () => {
    const m = await load("openai/gpt-oss-120b");
    expect(m.nativeQuant).toBe("mxfp4");
    expect(m.layers[0].cache).toEqual({ kind: "sliding", nKvHeads: 8, headDimK: 64, headDimV: 64, window: 128 });
    expect(m.layers[1].cache).toEqual({ kind: "full", nKvHeads: 8, headDimK: 64, headDimV: 64 });
    expect(m.layers.filter((l) => l.kind === "sliding")).toHaveLength(18);
    const t = Object.fromEntries(m.layers[5].tensors.map((x) => [x.name, x]));
    expect(t["blk.5.attn_sinks"]).toMatchObject({ shape: [64], role: "norm" });
    expect(t["blk.5.attn_q.bias"].shape).toEqual([4096]);
    expect(t["blk.5.ffn_down_exps"].shape).toEqual([2880, 2880, 128]);
    expect(t["blk.5.ffn_gate_inp.bias"].shape).toEqual([128]);
    expect(m.layers[5].moe).toEqual({ experts: 128, activeExperts: 4, sharedExperts: 0 });
  });

  it("Mamba 2.8B: recurrent state (d_conv-1)·d_inner and d_inner·d_state per layer (vLLM mamba1_state_shape)", async () => {
    const m = await load("state-spaces/mamba-2.8b-hf");
    expect(m.layers).toHaveLength(64);
    expect(m.layers[0].cache).toEqual({ kind: "recurrent", variant: "mamba", convElems: 3 * 5120, stateElems: 5120 * 16 });
    expect(m.tiedEmbeddings).toBe(true);
    expect(m.layers[0].tensors.find((t) => t.name === "blk.0.ssm_x")?.shape).toEqual([5120, 160 + 32]);
  });

  it("Qwen3-Next: gated delta net state, full attention every 4th layer, gated q_proj", async () => {
    const m = await load("Qwen/Qwen3-Next-80B-A3B-Instruct");
    const full = m.layers.filter((l) => l.cache.kind === "full").map((l) => l.index);
    expect(full).toEqual([3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47]);
    // conv (4-1) x (2·16·128 + 32·128); recurrent 32 x 128 x 128 (vLLM gated_delta_net_state_shape).
    expect(m.layers[0].cache).toEqual({ kind: "recurrent", variant: "gated-delta-net", convElems: 3 * 8192, stateElems: 32 * 128 * 128 });
    expect(m.layers[3].cache).toEqual({ kind: "full", nKvHeads: 2, headDimK: 256, headDimV: 256 });
    expect(m.layers[3].tensors.find((t) => t.name === "blk.3.attn_q")?.shape).toEqual([2048, 2 * 16 * 256]);
    expect(m.layers[0].moe).toEqual({ experts: 512, activeExperts: 10, sharedExperts: 1 });
  });

  it("Qwen3.5-35B-A3B: recurrent and KV element counts reproduce llama.cpp's log for that model", async () => {
    // Verbatim from github.com/MrSnowNB/nemoclaw-setup llama_server.log@1205ab50 (Qwen3.5-35B-A3B Q8_0, 4x RTX A6000;
    // shared sample engines/llamacpp-server-qwen3.5-35b-a3b-q8-cuda-4xa6000.log)
    // (n_ctx 32768, n_seq_max 4, f16 KV, f32 recurrent state):
    //   llama_kv_cache: size =  640.00 MiB ( 32768 cells,  10 layers,  4/1 seqs), K (f16):  320.00 MiB, V (f16):  320.00 MiB
    //   llama_memory_recurrent: size =  251.25 MiB (     4 cells,  40 layers,  4 seqs), R (f32):   11.25 MiB, S (f32):  240.00 MiB
    const m = await load("Qwen/Qwen3.5-35B-A3B");
    const MiB = 1024 * 1024;
    const rec = m.layers.map((l) => l.cache).filter((c) => c.kind === "recurrent");
    const att = m.layers.map((l) => l.cache).filter((c) => c.kind === "full");
    expect(att).toHaveLength(10);
    let r = 0;
    let s = 0;
    for (const c of rec) if (c.kind === "recurrent") (r += c.convElems * 4 * 4), (s += c.stateElems * 4 * 4);
    expect(r / MiB).toBe(11.25);
    expect(s / MiB).toBe(240);
    let k = 0;
    for (const c of att) if (c.kind === "full") k += c.nKvHeads * c.headDimK * 2 * 32768;
    expect(k / MiB).toBe(320);
    expect(m.vision?.params).toBeGreaterThan(0);
  });

  it("Mamba2 2.7B from mamba_ssm's config: 64 Mamba2 layers, 80 heads of 64, one group, state 128, padded vocabulary", async () => {
    const m = await load("state-spaces/mamba2-2.7b");
    expect(m.modelType).toBe("mamba2");
    expect(m.layers).toHaveLength(64);
    // vLLM mamba2_state_shape: conv (d_conv - 1) x (d_inner + 2 n_groups d_state), ssm n_heads x head_dim x d_state.
    const state: CacheSpec = { kind: "recurrent", variant: "mamba2", convElems: 3 * (5120 + 2 * 128), stateElems: 80 * 64 * 128 };
    expect(m.layers.every((l) => JSON.stringify(l.cache) === JSON.stringify(state))).toBe(true);
    const t = Object.fromEntries(m.layers[0].tensors.map((x) => [x.name, x]));
    expect(t["blk.0.ssm_in"].shape).toEqual([2560, 2 * 5120 + 2 * 128 + 80]);
    expect(m.vocabSize).toBe(50288);
    expect(m.tiedEmbeddings).toBe(true);
  });

  it("mamba_ssm configs: Mamba1 defaults, unsupported block kinds and a bad ssm_cfg are one-line input errors", async () => {
    const { modelFromHfConfig } = await import("../../lib/calc/index.js");
    const base = { d_model: 768, n_layer: 24, vocab_size: 50277, pad_vocab_size_multiple: 8, tie_embeddings: true };
    const m1 = modelFromHfConfig({ ...base, ssm_cfg: {} }, "mamba-130m");
    // Mamba1 (mamba_simple.py): d_state 16, d_inner 2 x 768, dt_rank ceil(768 / 16) = 48.
    expect(m1.layers[0].cache).toEqual({ kind: "recurrent", variant: "mamba", convElems: 3 * 1536, stateElems: 1536 * 16 });
    expect(m1.layers[0].tensors.find((x) => x.name === "blk.0.ssm_x")?.shape).toEqual([1536, 48 + 2 * 16]);
    expect(m1.vocabSize).toBe(50280);
    expect(() => modelFromHfConfig({ ...base, ssm_cfg: { layer: "Mamba2" }, attn_layer_idx: [3] }, "hybrid")).toThrow(/attention layers \(attn_layer_idx\)/);
    expect(() => modelFromHfConfig({ ...base, ssm_cfg: { layer: "Mamba3" } }, "x")).toThrow(/unknown mamba_ssm layer "Mamba3"/);
    expect(() => modelFromHfConfig({ ...base, ssm_cfg: [] }, "x")).toThrow(/"ssm_cfg" must be an object/);
  });

  it("Nemotron 3 Nano: Mamba2 state (vLLM mamba2_state_shape), non-gated experts, pattern order", async () => {
    const m = await load("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16");
    expect(m.layers.slice(0, 6).map((l) => l.kind)).toEqual(["mamba2", "moe", "mamba2", "moe", "mamba2", "attention"]);
    // conv (4-1) x (64·64 + 2·8·128); ssm 64 heads x 64 x 128.
    expect(m.layers[0].cache).toEqual({ kind: "recurrent", variant: "mamba2", convElems: 3 * 6144, stateElems: 64 * 64 * 128 });
    expect(m.layers[5].cache).toEqual({ kind: "full", nKvHeads: 2, headDimK: 128, headDimV: 128 });
    expect(m.layers[1].cache).toEqual({ kind: "none" });
    const names = m.layers[1].tensors.map((t) => t.name);
    expect(names).toContain("blk.1.ffn_up_exps");
    expect(names).not.toContain("blk.1.ffn_gate_exps");
    expect(m.layers[1].tensors.find((t) => t.name === "blk.1.ffn_up_shexp")?.shape).toEqual([2688, 3712]);
  });

  it("DeepSeek-V2-Lite: MLA without query compression, 1 dense then 26 MoE layers (64 routed top-6 + 2 shared)", async () => {
    const m = await load("deepseek-ai/DeepSeek-V2-Lite");
    expect(m.layers).toHaveLength(27);
    const mla: CacheSpec = { kind: "mla", nHeads: 16, kvLoraRank: 512, ropeDim: 64, qkNopeHeadDim: 128, vHeadDim: 128 };
    expect(m.layers.every((l) => JSON.stringify(l.cache) === JSON.stringify(mla))).toBe(true);
    expect(m.layers[0].moe).toBeUndefined();
    expect(m.layers.slice(1).every((l) => l.moe?.experts === 64 && l.moe.activeExperts === 6 && l.moe.sharedExperts === 2)).toBe(true);
    const t = Object.fromEntries(m.layers[1].tensors.map((x) => [x.name, x.shape]));
    // q_lora_rank null: q is projected straight from the hidden state, 16 heads x (128 nope + 64 rope).
    expect(t["blk.1.attn_q"]).toEqual([2048, 16 * 192]);
    expect(t["blk.1.attn_q_a"]).toBeUndefined();
    expect(t["blk.1.attn_kv_a_mqa"]).toEqual([2048, 576]);
    expect(t["blk.1.ffn_gate_exps"]).toEqual([2048, 1408, 64]);
    // Two shared experts are one fused block of 2 x 1408.
    expect(t["blk.1.ffn_up_shexp"]).toEqual([2048, 2 * 1408]);
    expect(m.layers[0].tensors.find((x) => x.name === "blk.0.ffn_gate")?.shape).toEqual([2048, 10944]);
  });

  it("Mixtral 8x7B: full GQA attention (sliding_window null), 8 experts top-2 in every layer", async () => {
    const m = await load("mistralai/Mixtral-8x7B-v0.1");
    expect(m.layers.every((l) => l.cache.kind === "full" && l.moe?.experts === 8 && l.moe.activeExperts === 2)).toBe(true);
  });
});

describe("CLI", () => {
  it("plan --model <alias> resolves offline and reports the catalog model's parameters", async () => {
    const p = runCliJson<{ params: { total: number; active: number }; layers: unknown[] }>([
      "plan", "--model", "mistralai/Mixtral-8x7B-Instruct-v0.1", "--engine", "vllm", "--context", "4096",
    ]);
    const m = await load("mistralai/Mixtral-8x7B-v0.1");
    expect(p.params.total).toBe(paramCounts(m).total);
    expect(p.params.active).toBe(paramCounts(m).active);
    expect(p.layers).toHaveLength(32);
  });

  it("plan --model DeepSeek-V2-Lite-Chat (alias) with vLLM caches kv_lora_rank + rope dims per layer", () => {
    const p = runCliJson<{ params: { total: number }; kv: { bytesPerToken: number } }>([
      "plan", "--model", "deepseek-ai/DeepSeek-V2-Lite-Chat", "--engine", "vllm", "--context", "4096",
    ]);
    expect(p.params.total).toBe(15706484224);
    // 27 layers x (512 + 64) x 2 bytes (bf16).
    expect(p.kv.bytesPerToken).toBe(27 * 576 * 2);
  });

  it("plan --model <MLA alias> works on every engine", () => {
    for (const engine of ["vllm", "llama.cpp", "mlx", "transformers"]) {
      const p = runCliJson<{ params: { total: number }; layers: { kind: string }[] }>([
        "plan", "--model", "deepseek-ai/DeepSeek-R1-0528", "--engine", engine, "--context", "8192", "--weights", "bf16",
      ]);
      expect(Math.round(p.params.total / 1e9)).toBe(671);
      expect(p.layers.every((l) => l.kind === "mla")).toBe(true);
    }
  });
});

describe("CLI on configs from the model repositories", () => {
  it("plan --model jamba-v0.1 with vLLM: KV only on the 4 attention layers (8 KV heads x 128, bf16)", () => {
    const p = runCliJson<{ params: { total: number; active: number }; kv: { bytesPerToken: number }; layers: unknown[] }>([
      "plan", "--model", "jamba-v0.1", "--engine", "vllm", "--context", "4096",
    ]);
    expect(Math.round(p.params.total / 1e9)).toBe(52);
    expect(p.kv.bytesPerToken).toBe(4 * 8 * 128 * 2 * 2);
    expect(p.layers).toHaveLength(32);
  });
});

describe("hwledger plan on a config of a derived repository (filed under the base id)", () => {
  it("plans Qwen1.5-MoE-A2.7B: 60 routed experts top-4 plus a gated shared expert, 24 layers x 16 KV heads x 128 x 2 x 2 bytes", async () => {
    const m = await load("Qwen/Qwen1.5-MoE-A2.7B");
    expect(m.layers.every((l) => l.moe?.experts === 60 && l.moe.activeExperts === 4 && l.moe.sharedExperts === 1)).toBe(true);
    expect(m.layers[0].tensors.map((t) => t.name)).toContain("blk.0.ffn_gate_inp_shexp");
    const p = runCliJson(["plan", "--model", "Qwen/Qwen1.5-MoE-A2.7B", "--engine", "vllm", "--context", "4096"]);
    expect(p.params.total).toBe(14315784192);
    expect(p.kv.bytesPerToken).toBe(24 * 16 * 128 * 2 * 2);
  });
});

// The configs the foundation issue was blocked on, now shipped from hash-checked copies (loaders/catalog/sources/):
// each resolves offline by its id and its siblings' ids, and plans to the sizes the model cards publish.
describe("models shipped from the shared, hash-checked configs", () => {
  const cases: Array<[string, string[], number, number]> = [
    // DeepSeek-V2 card: 236B total, 21B activated; V2-Chat has the same file.
    ["deepseek-ai/DeepSeek-V2", ["deepseek-ai/DeepSeek-V2-Chat", "deepseek-v2"], 236e9, 21e9],
    ["deepseek-ai/DeepSeek-V2.5", ["deepseek-v2.5"], 236e9, 21e9],
    // Kimi-VL report (arXiv 2504.07491): an MoE language model of 16B total / 2.8B activated plus a 400M MoonViT encoder.
    ["moonshotai/Kimi-VL-A3B-Instruct", ["kimi-vl-a3b"], 16.4e9, 3.2e9],
    // Gemma 3 12B: 12B (text model + 0.4B SigLIP tower).
    ["google/gemma-3-12b-it", ["gemma-3-12b"], 12.2e9, 12.2e9],
    ["google/gemma-3-12b-pt", [], 12.2e9, 12.2e9],
  ];
  it.each(cases)("%s resolves by id and siblings and has the published size", async (id, siblings, total, active) => {
    for (const ref of [id, ...siblings]) {
      const r = await resolveModel(ref, { offline: true });
      expect(r.origin).toBe("catalog");
      expect(findCatalogEntry(ref)).toBeDefined();
    }
    const p = paramCounts(await load(id));
    expect(Math.abs(p.total - total) / total).toBeLessThan(0.02);
    expect(Math.abs(p.active - active) / active).toBeLessThan(0.1);
  });

  it("`fit` answers for Gemma 3 12B offline", () => {
    const r = runCliJson<{ kvCapacityTokens: number }>(["fit", "--model", "google/gemma-3-12b-it", "--engine", "vllm", "--gpu-memory-gib", "79.19", "--context", "8192"], { env: { HWLEDGER_OFFLINE: "1" } });
    expect(r.kvCapacityTokens).toBeGreaterThan(8192);
  });
});
