// Non-GGUF weight schemes: exact bytes on hand-checkable tensors, what each leaves in 16-bit, and whole-model
// totals against published checkpoint sizes.
import { describe, expect, it } from "vitest";
import { modelFromHfConfig } from "../../lib/calc/arch/index.js";
import { attentionTensors, globalTensors, layer, moeTensors, normTensor, finishModel } from "../../lib/calc/arch/common.js";
import { fullAttention, slidingWindow } from "../../lib/calc/cache/index.js";
import { weightBytes, paramCounts, weightScheme, weightSchemeNames } from "../../lib/calc/weights.js";
import type { ModelSpec, TensorSpec } from "../../lib/calc/types.js";
import { InputError } from "../../lib/calc/types.js";
import { catalogConfig, catalogEntries } from "../../loaders/catalog.js";

const model = { modelType: "llama" } as ModelSpec;
const ctx = { model, layerIndex: 0 };
const t = (shape: number[], role: TensorSpec["role"] = "attention"): TensorSpec => ({ name: "blk.0.attn_q", shape, role });
const bytes = (scheme: string, tensor: TensorSpec) => weightScheme(scheme).bytesFor(ctx.model)(tensor, ctx.layerIndex);

describe("bytes of one 4096×4096 projection (16,777,216 weights)", () => {
  const sq = t([4096, 4096]);
  it("AWQ g128: 4-bit packed + 4-bit zero and fp16 scale per 128 inputs = 0.5 + 2.5/128 B/weight", () => {
    // qweight 4096·4096/2 + qzeros 32·4096/2 + scales 32·4096·2
    expect(bytes("awq", sq)).toBe(8_388_608 + 65_536 + 262_144);
    expect(bytes("awq", sq) / (4096 * 4096)).toBeCloseTo(0.5 + 2.5 / 128, 12);
  });
  it("GPTQ g128 adds an int32 g_idx per input row", () => {
    expect(bytes("gptq", sq)).toBe(8_388_608 + 16_384 + 65_536 + 262_144);
    expect(bytes("gptq-int8", sq)).toBe(16_777_216 + 16_384 + 131_072 + 262_144);
  });
  it("NF4 with double quant: 4-bit codes, 8-bit absmax per 64, fp32 per 256 blocks, code tables", () => {
    // codes n/2 + NF4 table 16·4 + 262,144 block absmax bytes + 1,024 fp32 second-level absmax + 256·4 nested table + offset
    expect(bytes("nf4", sq)).toBe(8_388_608 + 64 + 262_144 + 4_096 + 1_024 + 4);
    expect(bytes("nf4", sq) / (4096 * 4096)).toBeCloseTo(0.5 + 1 / 64 + 4 / (64 * 256), 3);
    expect(bytes("nf4-nodq", sq)).toBe(8_388_608 + 64 + 262_144 * 4);
  });
  it("INT8: one byte + fp32 scale per output row", () => {
    expect(bytes("int8", sq)).toBe(16_777_216 + 4096 * 4);
  });
  it("FP8: one byte + fp32 scale per 128×128 block, or one per tensor", () => {
    expect(bytes("fp8", sq)).toBe(16_777_216 + 32 * 32 * 4);
    expect(bytes("fp8-tensor", sq)).toBe(16_777_216 + 4);
  });
  it("MLX affine: bits/8 + 2 × 2 bytes per 64-group", () => {
    expect(bytes("mlx-4bit", sq)).toBe(8_388_608 + (16_777_216 / 64) * 4);
    expect(bytes("mlx-4bit", sq) / (4096 * 4096)).toBe(0.5625);
    expect(bytes("mlx-8bit", sq) / (4096 * 4096)).toBe(1.0625);
  });
  it("MLX mxfp4/mxfp8: E8M0 scale byte per 32, no bias", () => {
    expect(bytes("mlx-mxfp4", sq) / (4096 * 4096)).toBe(0.5 + 1 / 32);
    expect(bytes("mlx-mxfp8", sq) / (4096 * 4096)).toBe(1 + 1 / 32);
  });
});

describe("MXFP4 and what stays 16-bit", () => {
  it("MXFP4 is 17 bytes per 32 expert weights, and leaves attention in 16-bit", () => {
    const experts = t([64, 10, 4], "expert"); // 2 blocks per row × 40 rows
    expect(bytes("mxfp4", experts)).toBe(2 * 40 * 17);
    expect(bytes("mxfp4", t([64, 64]))).toBe(64 * 64 * 2);
  });
  it("AWQ/GPTQ/FP8/INT8/NF4 keep embeddings and lm_head in 16-bit; MLX quantizes them", () => {
    const emb = t([4096, 1000], "embedding");
    const head = t([4096, 1000], "lm_head");
    for (const s of ["awq", "gptq", "fp8", "int8", "nf4"]) {
      expect(bytes(s, emb)).toBe(4096 * 1000 * 2);
      expect(bytes(s, head)).toBe(4096 * 1000 * 2);
    }
    expect(bytes("mlx-4bit", emb)).toBe(4096 * 1000 * 0.5625);
    expect(bytes("mlx-4bit", head)).toBe(4096 * 1000 * 0.5625);
  });
  it("routers: 16-bit for AWQ (modules_to_not_convert), 8-bit under MLX for models whose quant_predicate says so", () => {
    const router = t([2048, 128], "router");
    expect(bytes("awq", router)).toBe(2048 * 128 * 2);
    const qwenMoe = { modelType: "qwen3_moe" } as ModelSpec;
    expect(weightScheme("mlx-4bit").bytesFor(qwenMoe)(router, 0)).toBe(2048 * 128 * 1.0625);
    const mixtral = { modelType: "mixtral" } as ModelSpec;
    expect(weightScheme("mlx-4bit").bytesFor(mixtral)(router, 0)).toBe(2048 * 128 * 0.5625);
  });
  it("norms and inputs not divisible by the group stay 16-bit", () => {
    expect(bytes("mlx-4bit", t([4096], "norm"))).toBe(8192);
    expect(bytes("awq", t([100, 4096]))).toBe(100 * 4096 * 2);
  });
  it("every catalog checkpoint published quantized (nativeQuant) names a registered scheme", () => {
    const native = catalogEntries().map((e) => modelFromHfConfig(catalogConfig(e), e.id).nativeQuant).filter((q): q is string => !!q);
    expect(native.length).toBeGreaterThan(0);
    for (const q of native) expect(weightScheme(q).name).toBe(q);
  });
  it("names: canonical, aliases, and a clear error for unknown ones", () => {
    for (const n of ["fp8", "int8", "awq", "gptq", "nf4", "mxfp4", "mlx-4bit", "mlx-8bit"]) expect(weightSchemeNames()).toContain(n);
    expect(weightScheme("MLX-Q4").name).toBe("mlx-4bit");
    expect(weightScheme("bnb-4bit").name).toBe("nf4");
    expect(() => weightScheme("int3")).toThrow(InputError);
  });
});

// Llama 3.1 8B (meta-llama/Llama-3.1-8B-Instruct config.json fields).
const llama8b = modelFromHfConfig(
  { model_type: "llama", torch_dtype: "bfloat16", hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, tie_word_embeddings: false },
  "llama-3.1-8b",
);

/** gpt-oss-120b tensor inventory from its config.json (36 layers, hidden 2880, 64 heads × 64, 8 KV heads, 128 experts of 2880, vocab 201088, untied). */
function gptOss120b(): ModelSpec {
  const hidden = 2880;
  const layers = [];
  for (let i = 0; i < 36; i++) {
    const tensors = [
      normTensor(`blk.${i}.attn_norm`, hidden),
      ...attentionTensors(i, { hidden, nHeads: 64, nKvHeads: 8, headDimK: 64, qkvBias: true, oBias: true }),
      normTensor(`blk.${i}.attn_sinks`, 64),
      normTensor(`blk.${i}.ffn_norm`, hidden),
      ...moeTensors(i, hidden, 2880, 128),
    ];
    layers.push(layer(i, i % 2 ? "attention" : "sliding", i % 2 ? fullAttention(8, 64) : slidingWindow(8, 64, 128), tensors, { experts: 128, activeExperts: 4, sharedExperts: 0 }));
  }
  return finishModel({
    id: "gpt-oss-120b", modelType: "gpt_oss", family: "test", hiddenSize: hidden, vocabSize: 201088, nHeads: 64, maxContext: 131072,
    tiedEmbeddings: false, nativeDtype: "bfloat16", nativeQuant: "mxfp4", layers, globals: globalTensors({ vocab: 201088, hidden, tied: false }),
  });
}

describe("whole checkpoints against published sizes (tolerance 2%: metadata, biases and shard headers)", () => {
  const GB = 1e9;
  it("gpt-oss-120b MXFP4: 60.8 GiB (OpenAI gpt-oss model card, checkpoint size table)", () => {
    const m = gptOss120b();
    expect(paramCounts(m).total / 1e9).toBeCloseTo(116.8, 0);
    const w = weightBytes(m, "mxfp4").total;
    expect(w / 2 ** 30).toBeGreaterThan(60.8 * 0.98);
    expect(w / 2 ** 30).toBeLessThan(60.8 * 1.02);
  });
  // Sizes as listed on each repository's "Files and versions" tab on huggingface.co.
  const cases: Array<[string, string, number]> = [
    ["mlx-4bit", "mlx-community/Meta-Llama-3.1-8B-Instruct-4bit (model.safetensors)", 4.52],
    ["awq", "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 (2 shards)", 5.73],
    ["gptq", "hugging-quants/Meta-Llama-3.1-8B-Instruct-GPTQ-INT4 (2 shards)", 5.74],
    ["nf4", "unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit (double quant, model.safetensors)", 5.7],
    ["fp8-tensor", "neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8 (2 shards)", 9.08],
  ];
  for (const [scheme, repo, published] of cases) {
    it(`Llama 3.1 8B ${scheme}: ${repo} = ${published} GB`, () => {
      const w = weightBytes(llama8b, scheme).total / GB;
      expect(Math.abs(w / published - 1)).toBeLessThan(0.02);
    });
  }
  it("orders as the layouts say: mlx-4bit < nf4 < awq < gptq < mlx-8bit < fp8 < int8 < bf16", () => {
    const s = (n: string) => weightBytes(llama8b, n).total;
    const order = ["mlx-4bit", "nf4", "awq", "gptq", "mlx-8bit", "fp8", "int8", "bf16"].map(s);
    for (let i = 1; i < order.length; i++) expect(order[i]).toBeGreaterThan(order[i - 1]);
    // MLX 8-bit undercuts INT8 only because it also quantizes the embedding and lm_head (2 × 525M weights).
    expect(weightBytes({ ...llama8b, globals: [] }, "mlx-8bit").total).toBeGreaterThan(weightBytes({ ...llama8b, globals: [] }, "int8").total);
  });
});

// A checkpoint published quantized says so in config.json; plans default to that scheme (deployment.ts nativeWeights).
describe("the scheme of a quantized checkpoint, from its config.json", () => {
  const base = catalogConfig(catalogEntries().find((e) => e.id === "Qwen/Qwen2.5-7B-Instruct")!);
  const cases: Array<[string, Record<string, unknown>, string | undefined]> = [
    ["AutoAWQ 4-bit g128", { quantization_config: { quant_method: "awq", bits: 4, group_size: 128, zero_point: true, version: "gemm" } }, "awq"],
    ["AutoAWQ 4-bit g64", { quantization_config: { quant_method: "awq", bits: 4, group_size: 64 } }, "awq-g64"],
    ["GPTQ 4-bit g128", { quantization_config: { quant_method: "gptq", bits: 4, group_size: 128, desc_act: false } }, "gptq"],
    ["GPTQ 8-bit g128", { quantization_config: { quant_method: "gptq", bits: 8, group_size: 128 } }, "gptq-int8"],
    ["bnb 4-bit double quant", { quantization_config: { quant_method: "bitsandbytes", load_in_4bit: true, bnb_4bit_use_double_quant: true } }, "nf4"],
    ["bnb 4-bit", { quantization_config: { quant_method: "bitsandbytes", load_in_4bit: true } }, "nf4-nodq"],
    ["bnb 8-bit", { quantization_config: { quant_method: "bitsandbytes", load_in_8bit: true } }, "int8"],
    ["FP8 block (DeepSeek-V3 style)", { quantization_config: { quant_method: "fp8", fmt: "e4m3", weight_block_size: [128, 128] } }, "fp8"],
    ["FP8 per tensor", { quantization_config: { quant_method: "fp8", activation_scheme: "dynamic" } }, "fp8-tensor"],
    ["compressed-tensors W4A16 g128", { quantization_config: { quant_method: "compressed-tensors", config_groups: { group_0: { targets: ["Linear"], weights: { num_bits: 4, type: "int", symmetric: true, strategy: "group", group_size: 128 } } } } }, "w4a16"],
    ["compressed-tensors W4A16 g32 asymmetric", { quantization_config: { quant_method: "compressed-tensors", config_groups: { g: { weights: { num_bits: 4, type: "int", symmetric: false, strategy: "group", group_size: 32 } } } } }, undefined],
    ["compressed-tensors FP8", { quantization_config: { quant_method: "compressed-tensors", config_groups: { g: { weights: { num_bits: 8, type: "float", strategy: "channel" } } } } }, "fp8-tensor"],
    ["mlx_lm 4-bit", { quantization: { group_size: 64, bits: 4 } }, "mlx-4bit"],
    ["HQQ", { quantization_config: { quant_method: "hqq" } }, undefined],
  ];
  for (const [label, extra, scheme] of cases) {
    it(`${label} -> ${scheme ?? "not modelled (16-bit, with a note)"}`, () => {
      const m = modelFromHfConfig({ ...base, ...extra }, "q");
      expect(m.nativeQuant).toBe(scheme);
      if (scheme) {
        expect(weightSchemeNames()).toContain(scheme);
        expect(m.notes).toEqual([]);
      } else expect(m.notes.join(" ")).toMatch(/is not a layout hwledger models/);
    });
  }

  it("W4A16 g128 (compressed-tensors): 0.5 B/weight + a 16-bit scale per 128 inputs, no zero point, weight_shape", () => {
    const sq = t([4096, 4096]);
    expect(bytes("w4a16", sq)).toBe(8_388_608 + 32 * 4096 * 2 + 16);
    expect(bytes("w4a16-asym", sq)).toBe(8_388_608 + 32 * 4096 * 2 + (32 * 4096) / 2 + 16);
    // A trailing partial group gets no scale (compressed_tensors_wNa16.py: input_size // group_size).
    expect(bytes("w4a16", t([704, 2816], "expert"))).toBe((704 * 2816) / 2 + 5 * 2816 * 2 + 16);
  });
});
