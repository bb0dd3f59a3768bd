// The dense / sliding-window / multimodal part of the shipped catalog: every entry loads through its family,
// ids, aliases and slugs resolve offline, the per-layer cache specs follow each config's attention layout,
// and the CLI plans an alias end to end. Configs are the verbatim files under loaders/catalog/configs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalogConfig, catalogEntries, catalogEntrySchema } from "../../loaders/catalog.js";
import type { CatalogEntry } from "../../loaders/catalog.js";
import { resolveModel } from "../../loaders/models.js";
import { InputError, modelFromHfConfig } from "../../lib/calc/index.js";
import type { ModelSpec } from "../../lib/calc/index.js";
import { runCli, runCliJson, ROOT } from "../helpers/cli.js";
import { expectDerivedSource, expectNotedSource, isNotedSource } from "../helpers/catalog-source.js";

const DENSE: CatalogEntry[] = JSON.parse(readFileSync(ROOT + "loaders/catalog/manifest-dense.json", "utf8")).map((e: unknown) => catalogEntrySchema.parse(e));

function build(id: string): ModelSpec {
  const e = DENSE.find((x) => x.id === id);
  if (!e) throw new Error(`${id} missing from manifest-dense.json`);
  return modelFromHfConfig(catalogConfig(e), e.id);
}

describe("dense catalog manifest", () => {
  it("lists the models of part 1", () => {
    expect(DENSE.length).toBeGreaterThanOrEqual(17);
  });

  it.each(DENSE.map((e) => [e.id, e] as [string, CatalogEntry]))("%s loads through a named family", (_id, entry) => {
    expect(entry.slug).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
    // Every source names the repository file and the commit it was copied from, or is the model's own Hugging Face
    // repository page (blob/blame view, whose revision may be a branch or PR ref; SOURCES.md gives the file's commit).
    if (entry.source.startsWith(`https://huggingface.co/${entry.id}/`)) expect(entry.source).toMatch(/^https:\/\/huggingface\.co\/[\w.-]+\/[\w.-]+\/(blob|blame)\/[^/ ]+\/config\.json /);
    else if (entry.note?.startsWith("verbatim config.json of ")) expectDerivedSource(entry);
    else if (!isNotedSource(entry)) expect(entry.source).toMatch(/[0-9a-f]{40}/);
    // Hash-proven copies (loaders/catalog/sources/): the bytes hash to what the note states.
    if (isNotedSource(entry)) expectNotedSource(entry);
    const m = modelFromHfConfig(catalogConfig(entry), entry.id);
    expect(m.family).not.toBe("generic");
    expect(m.notes).toEqual([]);
    expect(m.layers.length).toBeGreaterThan(0);
  });

  it("no id, alias or slug names two different entries across every manifest", () => {
    const owner = new Map<string, string>();
    const clashes: string[] = [];
    for (const e of catalogEntries()) {
      for (const k of new Set([e.id, e.slug, ...e.aliases].map((x) => x.toLowerCase()))) {
        const o = owner.get(k);
        if (o !== undefined && o !== e.id) clashes.push(`${k}: ${o} / ${e.id}`);
        owner.set(k, e.id);
      }
    }
    expect(clashes).toEqual([]);
  });

  it("ids, aliases and slugs resolve offline to the catalog entry", async () => {
    for (const e of DENSE) {
      for (const ref of [e.id, e.slug, ...e.aliases]) {
        const r = await resolveModel(ref, { offline: true });
        expect(r.origin, ref).toBe("catalog");
        expect(r.model.id, ref).toBe(e.id);
      }
    }
  });
});

describe("attention layouts from the configs", () => {
  it("Gemma 3 27B: 5 sliding (window 1024) : 1 global, q/k norms, head_dim 128 from the config", () => {
    const m = build("google/gemma-3-27b-it");
    expect(m.layers).toHaveLength(62);
    const global = m.layers.filter((l) => l.cache.kind === "full").map((l) => l.index);
    expect(global).toEqual([5, 11, 17, 23, 29, 35, 41, 47, 53, 59]);
    const s = m.layers[0].cache;
    expect(s).toEqual({ kind: "sliding", nKvHeads: 16, headDimK: 128, headDimV: 128, window: 1024 });
    const names = m.layers[0].tensors.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["blk.0.attn_q_norm", "blk.0.attn_k_norm", "blk.0.post_attention_norm", "blk.0.post_ffw_norm"]));
    expect(m.tiedEmbeddings).toBe(true);
    expect(m.globals.some((t) => t.name === "output")).toBe(false);
  });

  it("Gemma 3 4B: omitted fields take Gemma3TextConfig defaults (8 heads, 4 KV heads, head_dim 256, vocab 262208)", () => {
    const m = build("google/gemma-3-4b-it");
    expect(m.nHeads).toBe(8);
    expect(m.vocabSize).toBe(262208);
    expect(m.layers[0].cache).toMatchObject({ kind: "sliding", nKvHeads: 4, headDimK: 256, window: 1024 });
    expect(m.layers[5].cache).toMatchObject({ kind: "full", nKvHeads: 4, headDimK: 256 });
    expect(m.maxContext).toBe(131072);
    expect(m.modelType).toBe("gemma3_text");
  });

  it("a layer_types list overrides the pattern rule", () => {
    const cfg = structuredClone(catalogConfig(DENSE.find((e) => e.id === "google/gemma-3-4b-it")!)) as Record<string, any>;
    cfg.text_config.layer_types = Array.from({ length: 34 }, (_, i) => (i % 2 ? "full_attention" : "sliding_attention"));
    const m = modelFromHfConfig(cfg, "gemma-3-4b-edited");
    expect(m.layers.filter((l) => l.cache.kind === "full")).toHaveLength(17);
    cfg.text_config.layer_types = ["sliding_attention"];
    expect(() => modelFromHfConfig(cfg, "bad")).toThrow(InputError);
    expect(() => modelFromHfConfig(cfg, "bad")).toThrow(/layer_types.*34 entries/);
  });

  it("Llama 4 Scout: chunked (8192) attention on RoPE layers, full attention on every 4th (NoPE) layer, MoE 16 experts top-1 + shared", () => {
    const m = build("meta-llama/Llama-4-Scout-17B-16E-Instruct");
    expect(m.layers).toHaveLength(48);
    expect(m.layers.filter((l) => l.cache.kind === "full").map((l) => l.index)).toEqual([3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47]);
    expect(m.layers[0].cache).toEqual({ kind: "chunked", nKvHeads: 8, headDimK: 128, headDimV: 128, chunk: 8192 });
    expect(m.layers.every((l) => l.moe?.experts === 16 && l.moe.activeExperts === 1 && l.moe.sharedExperts === 1)).toBe(true);
    const t = Object.fromEntries(m.layers[0].tensors.map((x) => [x.name, x.shape]));
    expect(t["blk.0.ffn_up_exps"]).toEqual([5120, 8192, 16]);
    expect(t["blk.0.ffn_up_shexp"]).toEqual([5120, 8192]);
    expect(m.tiedEmbeddings).toBe(false);
    expect(m.vision?.params).toBeGreaterThan(0);
  });

  it("Mistral 7B v0.1 slides every layer over its 4096-token window", () => {
    const m = build("mistralai/Mistral-7B-v0.1");
    expect(m.layers.every((l) => l.cache.kind === "sliding" && l.cache.window === 4096 && l.cache.nKvHeads === 8)).toBe(true);
  });

  it("Llama 4 with interleave_moe_layer_step 2 and explicit no_rope_layers: dense layers use intermediate_size_mlp", () => {
    const cfg = structuredClone(catalogConfig(DENSE.find((e) => e.id === "meta-llama/Llama-4-Scout-17B-16E-Instruct")!)) as Record<string, any>;
    cfg.text_config.interleave_moe_layer_step = 2;
    cfg.text_config.no_rope_layers = Array.from({ length: 48 }, (_, i) => (i % 2 ? 1 : 0));
    const m = modelFromHfConfig(cfg, "llama4-edited");
    expect(m.layers[0].moe).toBeUndefined();
    expect(m.layers[1].moe?.experts).toBe(16);
    expect(m.layers[0].tensors.find((x) => x.name === "blk.0.ffn_up")?.shape).toEqual([5120, 16384]);
    expect(m.layers[0].cache.kind).toBe("full");
    expect(m.layers[1].cache.kind).toBe("chunked");
  });

  it("Qwen2.5 keeps full attention: use_sliding_window false disables the sliding_window field", () => {
    const m = build("Qwen/Qwen2.5-7B-Instruct");
    expect(m.layers.every((l) => l.cache.kind === "full")).toBe(true);
    expect(m.layers[0].cache).toEqual({ kind: "full", nKvHeads: 4, headDimK: 128, headDimV: 128 });
    // Qwen2 q/k/v carry biases (modeling_qwen2.py bias=True).
    expect(m.layers[0].tensors.map((t) => t.name)).toContain("blk.0.attn_q.bias");
  });

  it("Qwen2 with use_sliding_window: only layers from max_window_layers on slide (Qwen2Config layer_types rule)", () => {
    const cfg = { ...catalogConfig(DENSE.find((e) => e.id === "Qwen/Qwen2.5-7B-Instruct")!), use_sliding_window: true, sliding_window: 4096, max_window_layers: 21 };
    const m = modelFromHfConfig(cfg, "qwen2.5-7b-swa");
    expect(m.layers.filter((l) => l.cache.kind === "sliding").map((l) => l.index)).toEqual([21, 22, 23, 24, 25, 26, 27]);
  });

  it("Phi-4: fused qkv and gate_up tensors, GQA 40/10, full attention (sliding_window null)", () => {
    const m = build("microsoft/phi-4");
    const t = Object.fromEntries(m.layers[0].tensors.map((x) => [x.name, x.shape]));
    expect(t["blk.0.attn_qkv"]).toEqual([5120, (40 + 2 * 10) * 128]);
    expect(t["blk.0.ffn_up"]).toEqual([5120, 2 * 17920]);
    expect(m.layers.every((l) => l.cache.kind === "full")).toBe(true);
  });

  it("Gemma 2 9B: sliding (4096) on even layers, global on odd, head_dim 256 from the config, sandwich norms", () => {
    const m = build("google/gemma-2-9b-it");
    expect(m.layers).toHaveLength(42);
    expect(m.layers.filter((l) => l.cache.kind === "full").map((l) => l.index)).toEqual(Array.from({ length: 21 }, (_, i) => 2 * i + 1));
    expect(m.layers[0].cache).toEqual({ kind: "sliding", nKvHeads: 8, headDimK: 256, headDimV: 256, window: 4096 });
    // q_proj 3584 -> 16 x 256 = 4096 (head_dim is not hidden/heads = 224).
    expect(m.layers[0].tensors.find((t) => t.name === "blk.0.attn_q")?.shape).toEqual([3584, 4096]);
    expect(m.layers[0].tensors.map((t) => t.name)).toEqual(expect.arrayContaining(["blk.0.post_attention_norm", "blk.0.post_ffw_norm"]));
  });

  it("Phi-2: 32 full-attention layers caching the whole 80-dim head (partial rotary rotates 32 of 80)", () => {
    const m = build("microsoft/phi-2");
    expect(m.layers.every((l) => JSON.stringify(l.cache) === JSON.stringify({ kind: "full", nKvHeads: 32, headDimK: 80, headDimV: 80 }))).toBe(true);
    expect(m.globals.find((g) => g.name === "output.bias")?.shape).toEqual([51200]);
  });

  it("malformed family fields are one-line input errors naming the field", () => {
    const gemma = catalogConfig(DENSE.find((e) => e.id === "google/gemma-3-4b-it")!);
    expect(() => modelFromHfConfig({ ...gemma, vision_config: "siglip" }, "g")).toThrow(/"vision_config" must be an object/);
    const scout = structuredClone(catalogConfig(DENSE.find((e) => e.id === "meta-llama/Llama-4-Scout-17B-16E-Instruct")!)) as Record<string, any>;
    scout.text_config.no_rope_layers = [1, 1, 1, 0];
    expect(() => modelFromHfConfig(scout, "s")).toThrow(/"no_rope_layers" must list 48 entries/);
    const err = (() => {
      try {
        modelFromHfConfig({ model_type: "falcon", vocab_size: 65024 }, "falcon-broken");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect(err!.message).toBe("falcon-broken: config.json is missing required field(s): hidden_size, num_hidden_layers, num_attention_heads");
  });

  it("a multimodal config with a malformed text_config is a clear input error", () => {
    const cfg = { ...catalogConfig(DENSE.find((e) => e.id === "google/gemma-3-4b-it")!), text_config: 7 };
    expect(() => modelFromHfConfig(cfg, "broken")).toThrow(/"text_config" must be an object/);
  });
});

describe("hwledger plan on catalog aliases", () => {
  it("plans Llama 3.3 70B (an alias of the 3.1 70B architecture) with vLLM", () => {
    const p = runCliJson(["plan", "--model", "meta-llama/Llama-3.3-70B-Instruct", "--engine", "vllm", "--context", "8192"]);
    expect(p.params.total).toBe(70553706496);
    // 80 layers × 8 KV heads × 128 × 2 (K,V) × 2 bytes (bf16).
    expect(p.kv.bytesPerToken).toBe(80 * 8 * 128 * 2 * 2);
  });

  it("plans Gemma 3 4B by its base-model alias: vLLM loads the vision tower, llama.cpp keeps it in mmproj; sliding layers keep 1024 tokens", () => {
    const v = runCliJson(["plan", "--model", "google/gemma-3-4b-pt", "--engine", "vllm", "--context", "32768"]);
    expect(v.basis.some((b: string) => b.includes("vision tower and projector"))).toBe(true);
    const p = runCliJson(["plan", "--model", "google/gemma-3-4b-pt", "--engine", "llama.cpp", "--context", "32768"]);
    expect(p.basis.some((b: string) => b.includes("weights exclude the vision tower"))).toBe(true);
    const rows = p.layers as { kind: string; kvBytes: number }[];
    const sliding = rows.find((l) => l.kind === "sliding")!;
    const global = rows.find((l) => l.kind === "attention")!;
    expect(sliding.kvBytes).toBeLessThan(global.kvBytes / 8);
  });

  it("plans Phi-2 with vLLM: 32 layers x 32 KV heads x 80 x (K,V) x 2 bytes per token", () => {
    const p = runCliJson(["plan", "--model", "microsoft/phi-2", "--engine", "vllm", "--context", "4096"]);
    expect(p.params.total).toBe(2779683840);
    expect(p.kv.bytesPerToken).toBe(32 * 32 * 80 * 2 * 2);
  });

  it("an unknown id offline is exit 2 with one line", () => {
    const r = runCli(["plan", "--model", "nobody/not-a-model", "--engine", "vllm", "--context", "4096"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("hwledger plan on configs from the model repositories", () => {
  it("plans Falcon 7B by its base id: one shared K/V head of 64 per layer (multi_query)", () => {
    const p = runCliJson(["plan", "--model", "tiiuae/falcon-7b", "--engine", "vllm", "--context", "4096"]);
    expect(Math.round(p.params.total / 1e9)).toBe(7);
    expect(p.kv.bytesPerToken).toBe(32 * 1 * 64 * 2 * 2);
  });

  it("plans CodeLlama 7B Instruct by its alias with llama.cpp: MHA, 32 layers x 32 KV heads x 128 x (K,V) x f16", () => {
    const p = runCliJson(["plan", "--model", "codellama/CodeLlama-7b-Instruct-hf", "--engine", "llama.cpp", "--context", "4096"]);
    expect(p.params.total).toBe(6738546688);
    expect(p.memory.kvCacheBytes).toBe(4096 * 32 * 32 * 128 * 2 * 2);
  });

  it("plans Qwen2 72B Instruct: 80 layers x 8 KV heads x 128 x (K,V) x 2 bytes", () => {
    const p = runCliJson(["plan", "--model", "Qwen/Qwen2-72B-Instruct", "--engine", "vllm", "--context", "4096"]);
    expect(p.params.total).toBe(72706203648);
    expect(p.kv.bytesPerToken).toBe(80 * 8 * 128 * 2 * 2);
  });
});

describe("hwledger plan on configs of derived repositories (filed under the base id)", () => {
  it("plans Qwen2.5 72B by its base id (a copy of the Instruct repository): the same sizes as Qwen2 72B", () => {
    const p = runCliJson(["plan", "--model", "Qwen/Qwen2.5-72B", "--engine", "vllm", "--context", "4096"]);
    expect(p.params.total).toBe(72706203648);
    expect(p.kv.bytesPerToken).toBe(80 * 8 * 128 * 2 * 2);
  });

  it("plans Gemma 7B by its instruct alias: 28 layers x 16 KV heads x 256 x (K,V) x 2 bytes", () => {
    const p = runCliJson(["plan", "--model", "google/gemma-7b-it", "--engine", "vllm", "--context", "4096"]);
    expect(p.params.total).toBe(8537680896);
    expect(p.kv.bytesPerToken).toBe(28 * 16 * 256 * 2 * 2);
  });

  it("plans Gemma 2 27B: only the 23 global layers grow per token; the sliding ones stop at 4096", () => {
    const p = runCliJson(["plan", "--model", "google/gemma-2-27b", "--engine", "vllm", "--context", "4096"]);
    expect(p.params.total).toBe(27227128320);
    expect(p.kv.bytesPerToken).toBe(23 * 16 * 128 * 2 * 2);
  });

  it("plans Phi-3-mini 4k and StarCoder (one shared K/V head per layer: 40 x 128 x 2 x 2 bytes)", () => {
    const phi = runCliJson(["plan", "--model", "microsoft/Phi-3-mini-4k-instruct", "--engine", "vllm", "--context", "4096"]);
    expect(phi.params.total).toBe(3821079552);
    const sc = runCliJson(["plan", "--model", "bigcode/starcoder", "--engine", "vllm", "--context", "4096"]);
    expect(sc.params.total).toBe(15517456384);
    expect(sc.kv.bytesPerToken).toBe(40 * 1 * 128 * 2 * 2);
  });
});
