// What llama.cpp reads of a model for its memories and compute graph, compiled once: which of its caches each layer
// lands in, row widths, and the widest tensors. Rules from the llama.cpp source shipped in node-llama-cpp 3.22.1 (its
// llama/gitRelease.bundle, tag v0.5.0); each names the file and function it follows.
import { ggufArchOf, kvElemsPerToken } from "../../lib/calc/index.js";
import type { ModelSpec } from "../../lib/calc/index.js";

/**
 * llama.cpp architectures (GGUF general.architecture) that build an iSWA cache (llama_model::create_memory ->
 * llama_kv_cache_iswa when hparams.swa_type != NONE). Which layers slide is the family's declaration (lib/calc/arch);
 * other architectures cache those layers in full: Mistral/Qwen2 convert to LLM_ARCH_LLAMA/QWEN2 with no SWA, and
 * src/models/phi3.cpp forces swa_type = NONE.
 */
const SWA_ARCHS = new Set([
  "gemma2", "gemma3", "gemma3n", "gemma4", "cohere2", "gpt-oss", "llama4", "exaone4", "olmo2", "olmo3", "mimo2", "smallthinker", "afmoe",
  "granite_swa", "step35", "lfm2",
]);

/** The llama.cpp memory a layer's cache lands in: the base KV cache, the SWA KV cache, the recurrent memory, or none. */
export type LlamaMemory = "base" | "swa" | "recurrent" | null;

export interface LlamaLayer {
  memory: LlamaMemory;
  /** K and V row widths (n_embd_k_gqa / n_embd_v_gqa) of a KV layer. */
  kElems: number;
  vElems: number;
  headK: number;
  headV: number;
  /** r + s row widths (n_embd_r + n_embd_s) of a recurrent layer. */
  rsElems: number;
  /** MLA widths (hparams n_lora_kv, n_rot, n_embd_head_k_mla − n_rot, n_embd_head_v_mla) of an MLA layer. */
  mla?: { kvLora: number; rope: number; nope: number; vHead: number };
  /** The layer's FFN is routed experts (build_moe_ffn) rather than one dense block. */
  moe: boolean;
  /** Q comes through a low-rank pair (attn_q_a, attn_q_b) rather than one attn_q. */
  qLora: boolean;
}

/** Sums over the layers of one memory, so a cache size is three multiplications. */
export interface MemorySums {
  layers: number;
  kElems: number;
  vElems: number;
  /** Layers with a V tensor (MLA has none): without flash attention each holds n_embd_v_gqa_max per cell. */
  vLayers: number;
}

export interface LlamaModel {
  /** GGUF general.architecture (which src/models/*.cpp graph llama.cpp builds). */
  arch: string;
  /** Any attention projection with a bias (Qwen2's q/k/v): extra graph nodes the simulated graph does not hold. */
  attnBias: boolean;
  layers: LlamaLayer[];
  base: MemorySums;
  swa: MemorySums;
  recurrent: { layers: number; rsElems: number };
  swaWindow: number;
  ignoredSwa: boolean;
  maxVElems: number;
  nVocab: number;
  nFfMax: number;
  nEmbd: number;
  nHead: number;
  /** Widest Q projection (n_head × n_embd_head_k) of an attention layer. */
  qWidth: number;
  /** gcd of the K / V head sizes of cached layers: a quantized cache type must divide them. */
  headKGcd: number;
  headVGcd: number;
  basis: string[];
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

export function compileLlamaModel(model: ModelSpec): LlamaModel {
  const honoursSwa = SWA_ARCHS.has(ggufArchOf(model));
  let swaWindow = 0;
  let ignoredSwa = false;
  let maxVElems = 0;
  let nFfMax = 0;
  let qWidth = 0;
  let hasMla = false;
  const base: MemorySums = { layers: 0, kElems: 0, vElems: 0, vLayers: 0 };
  const swa: MemorySums = { layers: 0, kElems: 0, vElems: 0, vLayers: 0 };
  const recurrent = { layers: 0, rsElems: 0 };
  let headKGcd = 0;
  let headVGcd = 0;
  const layers = model.layers.map((l): LlamaLayer => {
    // Widest FFN activation per token: n_ff, or for routed experts n_expert_used × n_ff_exp (llama-graph.cpp
    // build_moe_ffn: ggml_mul_mat_id gives up / gate [n_ff_exp, n_expert_used, n_tokens]).
    for (const t of l.tensors) {
      const m = /ffn_(up|gate)(_exps|_shexp)?(\.weight)?$/.exec(t.name);
      if (m && t.shape.length >= 2) nFfMax = Math.max(nFfMax, t.shape[1] * (m[2] === "_exps" ? (l.moe?.activeExperts ?? 1) : 1));
    }
    const c = l.cache;
    const info: LlamaLayer = { memory: null, kElems: 0, vElems: 0, headK: 0, headV: 0, rsElems: 0, moe: !!l.moe, qLora: l.tensors.some((t) => /attn_q_a(\.weight)?$/.test(t.name)) };
    switch (c.kind) {
      case "full":
      case "sliding":
      case "chunked": {
        // K and V rows of n_embd_k_gqa / n_embd_v_gqa (llama-hparams.cpp): the spec's elements per token.
        const e = kvElemsPerToken(c, "latent");
        info.kElems = e.k;
        info.vElems = e.v;
        info.headK = c.headDimK;
        info.headV = c.headDimV;
        qWidth = Math.max(qWidth, model.nHeads * c.headDimK);
        const w = c.kind === "sliding" ? c.window : c.kind === "chunked" ? c.chunk : 0;
        if (w > 0 && honoursSwa) {
          info.memory = "swa";
          swaWindow = Math.max(swaWindow, w);
        } else {
          info.memory = "base";
          if (w > 0) ignoredSwa = true;
        }
        break;
      }
      case "mla":
        // MLA caches the latent as one K row per token and no V tensor (cache/mla.ts, "latent").
        info.memory = "base";
        info.kElems = kvElemsPerToken(c, "latent").k;
        info.headK = info.kElems;
        info.mla = { kvLora: c.kvLoraRank, rope: c.ropeDim, nope: c.qkNopeHeadDim, vHead: c.vHeadDim };
        hasMla = true;
        break;
      case "recurrent":
        // r (conv) and s (ssm) rows per sequence, f32 (llama-memory-recurrent.cpp constructor; n_embd_r/n_embd_s
        // in llama-hparams.cpp).
        info.memory = "recurrent";
        info.rsElems = c.convElems + c.stateElems;
        break;
      case "cross":
      case "none":
        break;
    }
    maxVElems = Math.max(maxVElems, info.vElems);
    if (info.memory === "base" || info.memory === "swa") {
      const s = info.memory === "base" ? base : swa;
      s.layers++;
      s.kElems += info.kElems;
      s.vElems += info.vElems;
      if (info.vElems) s.vLayers++;
      headKGcd = gcd(headKGcd, info.headK);
      if (info.vElems) headVGcd = gcd(headVGcd, info.headV);
    } else if (info.memory === "recurrent") {
      recurrent.layers++;
      recurrent.rsElems += info.rsElems;
    }
    return info;
  });
  const basis = [
    "llama.cpp KV: n_ctx padded to 256, n_ctx_seq = n_ctx / n_seq per stream unless unified (llama-context.cpp); K/V rows per ggml_row_size of each layer's n_embd_k/v_gqa (llama-kv-cache.cpp)",
  ];
  if (swaWindow) basis.push(`llama.cpp SWA cache: GGML_PAD(min(n_ctx_seq, n_swa ${swaWindow} × (unified ? n_seq : 1) + n_ubatch), 256) cells per stream (llama-kv-cache-iswa.cpp)`);
  if (recurrent.layers) basis.push("llama.cpp recurrent state: max(1, n_seq) cells of (n_embd_r + n_embd_s) f32 per recurrent layer (llama-memory-recurrent.cpp, llama-hparams.cpp)");
  if (hasMla) basis.push("llama.cpp MLA: caches kv_lora_rank + n_rot per token as K, no V tensor (llama-kv-cache.cpp has_v = !is_mla)");
  if (ignoredSwa) basis.push(`llama.cpp: ${model.modelType} has no iSWA cache in llama.cpp; sliding layers are cached in full`);
  const attnBias = model.layers.some((l) => l.tensors.some((t) => /attn_(q|k|v|qkv)\.bias$/.test(t.name)));
  return { arch: ggufArchOf(model), attnBias, layers, base, swa, recurrent, swaWindow, ignoredSwa, maxVElems, nVocab: model.vocabSize, nFfMax, nEmbd: model.hiddenSize, nHead: model.nHeads, qWidth, headKGcd, headVGcd, basis };
}

/** The distinct K or V head sizes of cached layers (for the error naming them). */
export function headSizes(m: LlamaModel, key: "headK" | "headV"): string {
  return [...new Set(m.layers.filter((l) => l.memory === "base" || l.memory === "swa").map((l) => l[key]))].join(", ");
}
