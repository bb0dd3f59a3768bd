// llama.cpp memory profile: how llama.cpp sizes its KV cache, recurrent state, compute and output buffers.
// Rules from the llama.cpp source shipped in node-llama-cpp 3.22.1 (its llama/gitRelease.bundle, tag v0.5.0);
// each rule names the file and function it follows.
import { NO_ROWS } from "./shapes.js";
import { ggufArchOf } from "../arch/index.js";
import { mlaLatentElems } from "../cache/mla.js";
import { ggmlType } from "../ggml.js";
import type { GgmlType } from "../ggml.js";
import { InputError } from "../types.js";
import type { CacheSpec, Deployment, KvDtype, ModelSpec } from "../types.js";
import type { CacheResult, EngineProfile, Estimate } from "./profile.js";
import type { FitBudget, FitResult } from "../solve.js";
import { weightBytes } from "../weights.js";

const pad = (x: number, n: number) => Math.ceil(x / n) * n;

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

/** Element types llama.cpp accepts for -ctk/-ctv (common/arg.cpp kv_cache_types). */
const KV_TYPES: Partial<Record<KvDtype, GgmlType>> = {};
for (const [d, n] of [["f32", "F32"], ["f16", "F16"], ["bf16", "BF16"], ["q8_0", "Q8_0"], ["q5_0", "Q5_0"], ["q5_1", "Q5_1"], ["q4_0", "Q4_0"], ["q4_1", "Q4_1"], ["iq4_nl", "IQ4_NL"]] as const) {
  KV_TYPES[d] = ggmlType(n)!;
}

function kvType(d: KvDtype, which: "K" | "V"): GgmlType {
  const t = KV_TYPES[d];
  if (!t) throw new InputError(`llama.cpp has no ${which} cache type "${d}" (use f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0 or q5_1)`);
  return t;
}

/** Per-model layer summary, computed once (plan() runs in sliders: keep the hot path allocation-free). */
interface LayerInfo {
  /** 0 none, 1 base KV cache, 2 SWA KV cache, 3 recurrent state. */
  cache: number;
  kElems: number;
  vElems: number;
  headK: number;
  headV: number;
  window: number;
  rsElems: number;
}
interface ModelInfo {
  layers: LayerInfo[];
  swaWindow: number;
  ignoredSwa: boolean;
  maxVElems: number;
  nVocab: number;
  nFfMax: number;
  nEmbd: number;
  nHead: number;
  /** Widest Q projection (n_head × n_embd_head_k) of an attention layer. */
  qWidth: number;
  hasMla: boolean;
  hasRecurrent: boolean;
  /** gcd of the K / V head sizes of cached layers: a quantized cache type must divide them. */
  headKGcd: number;
  headVGcd: number;
  /** Basis lines: fixed per model, so plan() builds no strings in its hot path. */
  basis: string[];
}
const INFO = new WeakMap<ModelSpec, ModelInfo>();

function modelInfo(model: ModelSpec): ModelInfo {
  const hit = INFO.get(model);
  if (hit) return hit;
  const honoursSwa = SWA_ARCHS.has(ggufArchOf(model));
  let swaWindow = 0;
  let ignoredSwa = false;
  let maxVElems = 0;
  let nFfMax = 0;
  let qWidth = 0;
  let hasMla = false;
  const layers = model.layers.map((l): LayerInfo => {
    // Widest FFN activation per token: n_ff, or for routed experts n_expert_used × n_ff_exp (llama-graph.cpp
    // build_moe_ffn: ggml_mul_mat_id gives up / gate [n_ff_exp, n_expert_used, n_tokens]).
    for (const t of l.tensors) {
      const m = /ffn_(up|gate)(_exps|_shexp)?(\.weight)?$/.exec(t.name);
      if (m && t.shape.length >= 2) nFfMax = Math.max(nFfMax, t.shape[1] * (m[2] === "_exps" ? (l.moe?.activeExperts ?? 1) : 1));
    }
    const c: CacheSpec = l.cache;
    const info: LayerInfo = { cache: 0, kElems: 0, vElems: 0, headK: 0, headV: 0, window: 0, rsElems: 0 };
    switch (c.kind) {
      case "full":
      case "sliding":
      case "chunked": {
        info.kElems = c.nKvHeads * c.headDimK;
        info.vElems = c.nKvHeads * c.headDimV;
        info.headK = c.headDimK;
        info.headV = c.headDimV;
        qWidth = Math.max(qWidth, model.nHeads * c.headDimK);
        const w = c.kind === "sliding" ? c.window : c.kind === "chunked" ? c.chunk : 0;
        if (w > 0 && honoursSwa) {
          info.cache = 2;
          info.window = w;
          swaWindow = Math.max(swaWindow, w);
        } else {
          info.cache = 1;
          if (w > 0) ignoredSwa = true;
        }
        break;
      }
      case "mla":
        // MLA caches the latent as one K row per token and no V tensor (cache/mla.ts).
        info.cache = 1;
        info.kElems = mlaLatentElems(c);
        info.headK = info.kElems;
        hasMla = true;
        break;
      case "recurrent":
        // r (conv) and s (ssm) rows per sequence, f32 (llama-memory-recurrent.cpp constructor; n_embd_r/n_embd_s
        // in llama-hparams.cpp).
        info.cache = 3;
        info.rsElems = c.convElems + c.stateElems;
        break;
      case "cross":
      case "none":
        break;
    }
    maxVElems = Math.max(maxVElems, info.vElems);
    return info;
  });
  const hasRecurrent = layers.some((l) => l.cache === 3);
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  let headKGcd = 0;
  let headVGcd = 0;
  for (const l of layers) {
    if (l.cache !== 1 && l.cache !== 2) continue;
    headKGcd = gcd(headKGcd, l.headK);
    if (l.vElems) headVGcd = gcd(headVGcd, l.headV);
  }
  const basis = [
    "llama.cpp KV: n_ctx padded to 256, n_ctx_seq = n_ctx / n_seq per stream unless unified (llama-context.cpp); K/V rows per ggml_row_size of each layer's n_embd_k/v_gqa (llama-kv-cache.cpp)",
  ];
  if (swaWindow) basis.push(`llama.cpp SWA cache: GGML_PAD(min(n_ctx_seq, n_swa ${swaWindow} × (unified ? n_seq : 1) + n_ubatch), 256) cells per stream (llama-kv-cache-iswa.cpp)`);
  if (hasRecurrent) basis.push("llama.cpp recurrent state: max(1, n_seq) cells of (n_embd_r + n_embd_s) f32 per recurrent layer (llama-memory-recurrent.cpp, llama-hparams.cpp)");
  if (hasMla) basis.push("llama.cpp MLA: caches kv_lora_rank + n_rot per token as K, no V tensor (llama-kv-cache.cpp has_v = !is_mla)");
  if (ignoredSwa) basis.push(`llama.cpp: ${model.modelType} has no iSWA cache in llama.cpp; sliding layers are cached in full`);
  const r = { layers, swaWindow, ignoredSwa, maxVElems, nVocab: model.vocabSize, nFfMax, nEmbd: model.hiddenSize, nHead: model.nHeads, qWidth, hasMla, hasRecurrent, headKGcd, headVGcd, basis };
  INFO.set(model, r);
  return r;
}

export interface LlamaCppContext {
  /** n_ctx after llama_context's padding (all streams together). */
  nCtx: number;
  /** Cells per stream in the base cache (cparams.n_ctx_seq). */
  nCtxSeq: number;
  nSeq: number;
  /** KV streams: n_seq_max when not unified, else 1 (llama_kv_cache: n_stream = unified ? 1 : n_seq_max). */
  nStream: number;
  nBatch: number;
  nUbatch: number;
  /** Cells per stream of the SWA cache (0 when the model has none). */
  swaCells: number;
  flashAttention: boolean;
  unified: boolean;
}

/**
 * The context llama.cpp builds for `-c N×S -np S` (hwledger's --context is tokens per sequence), following
 * llama-context.cpp llama_context::llama_context: n_ctx = GGML_PAD(n_ctx, 256); not unified: n_ctx_seq =
 * GGML_PAD(n_ctx / n_seq_max, 256) and n_ctx = n_ctx_seq × n_seq_max; n_batch = min(n_ctx, n_batch);
 * n_ubatch = min(n_batch, n_ubatch). Defaults n_batch 2048 / n_ubatch 512 (llama_context_default_params).
 * With --kv-unified one stream of n_ctx = --context cells serves every sequence.
 */
export function llamaCppContext(model: ModelSpec, dep: Deployment): LlamaCppContext {
  return contextFor(modelInfo(model), dep);
}

function contextFor(info: ModelInfo, dep: Deployment): LlamaCppContext {
  const o = dep.options;
  const unified = o?.kvUnified ?? false;
  const nSeq = dep.seqs;
  const { nCtxSeq, nStream, nUbatch } = ctxNumbers(dep);
  const nCtx = nCtxSeq * nStream;
  const nBatch = Math.min(nCtx, o?.batch ?? 2048);
  // llama-kv-cache-iswa.cpp llama_kv_cache_iswa::llama_kv_cache_iswa:
  // size_swa = GGML_PAD(min(size_base, n_swa × (unified ? n_seq_max : 1) + n_ubatch), 256); --swa-full: size_base.
  let swaCells = 0;
  if (info.swaWindow > 0) swaCells = o?.swaFull ? nCtxSeq : pad(Math.min(nCtxSeq, info.swaWindow * (unified ? nSeq : 1) + nUbatch), 256);
  // flash_attn defaults to "auto", which resolves to on where the backend supports it (CPU, CUDA, Metal, Vulkan).
  const flashAttention = o?.flashAttention ?? true;
  return { nCtx, nCtxSeq, nSeq, nStream, nBatch, nUbatch, swaCells, flashAttention, unified };
}

function headSizes(info: ModelInfo, key: "headK" | "headV"): string {
  return [...new Set(info.layers.filter((l) => l.cache === 1 || l.cache === 2).map((l) => l[key]))].join(", ");
}

export interface LlamaCppCacheDetail {
  ctx: LlamaCppContext;
  /** Bytes of each cache llama.cpp prints a `size = …` line for. */
  base: { cells: number; layers: number; kBytes: number; vBytes: number };
  swa: { cells: number; layers: number; kBytes: number; vBytes: number };
  recurrent: { cells: number; layers: number; bytes: number };
}

/** The caches llama.cpp allocates, split as its log prints them (llama_kv_cache / llama_memory_recurrent `size =` lines). */
export function llamaCppCaches(model: ModelSpec, dep: Deployment, perLayer?: number[]): LlamaCppCacheDetail {
  const info = modelInfo(model);
  const ctx = contextFor(info, dep);
  const tk = kvType(dep.kvDtypeK, "K");
  const tv = kvType(dep.kvDtypeV, "V");
  const quantV = tv.blockSize > 1;
  if (quantV && !ctx.flashAttention) throw new InputError(`llama.cpp: a quantized V cache (${dep.kvDtypeV}) requires flash attention (llama-context.cpp llama_init_from_model)`);
  // Quantized caches need whole blocks per head (llama_init_from_model: "K cache type … does not divide n_embd_head_k").
  if (tk.blockSize > 1 && info.headKGcd % tk.blockSize !== 0) throw new InputError(`llama.cpp: K cache type ${dep.kvDtypeK} needs a head size divisible by ${tk.blockSize}; this model has K heads of ${headSizes(info, "headK")}`);
  if (quantV && info.headVGcd % tv.blockSize !== 0) throw new InputError(`llama.cpp: V cache type ${dep.kvDtypeV} needs a head size divisible by ${tv.blockSize}; this model has V heads of ${headSizes(info, "headV")}`);
  const rsCells = Math.max(1, ctx.nSeq);
  const baseCells = ctx.nCtxSeq * ctx.nStream;
  const swaCells = ctx.swaCells * ctx.nStream;
  // Bytes per element as fractions of a block (ggml_row_size): q8_0 = 34/32.
  const kb = tk.typeSize / tk.blockSize;
  const vb = tv.typeSize / tv.blockSize;
  const vPad = ctx.flashAttention ? 0 : info.maxVElems;
  let bL = 0, bK = 0, bV = 0, sL = 0, sK = 0, sV = 0, rL = 0, rB = 0;
  const ls = info.layers;
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    let bytes = 0;
    if (l.cache === 1 || l.cache === 2) {
      // K: ggml_new_tensor_3d(type_k, n_embd_k_gqa, kv_size, n_stream); V likewise, except that without flash
      // attention V is stored transposed and padded to n_embd_v_gqa_max (llama_kv_cache::llama_kv_cache).
      const cells = l.cache === 1 ? baseCells : swaCells;
      const k = kb * l.kElems * cells;
      const v = l.vElems === 0 ? 0 : vb * (vPad || l.vElems) * cells;
      if (l.cache === 1) {
        bL++;
        bK += k;
        bV += v;
      } else {
        sL++;
        sK += k;
        sV += v;
      }
      bytes = k + v;
    } else if (l.cache === 3) {
      // mem_size = max(1, n_seq_max) rows of n_embd_r + n_embd_s f32 values (llama_model::create_memory).
      bytes = l.rsElems * 4 * rsCells;
      rL++;
      rB += bytes;
    }
    if (perLayer) perLayer[i] = bytes;
  }
  const base = { cells: ctx.nCtxSeq, layers: bL, kBytes: bK, vBytes: bV };
  const swa = { cells: ctx.swaCells, layers: sL, kBytes: sK, vBytes: sV };
  const recurrent = { cells: rsCells, layers: rL, bytes: rB };
  return { ctx, base, swa, recurrent };
}

/**
 * The padding rule itself, without allocating (plan()'s hot path): cells per stream, streams, micro-batch.
 * Returns a shared scratch object: read it before the next call.
 */
function ctxNumbers(dep: Deployment): { nCtxSeq: number; nStream: number; nUbatch: number } {
  const o = dep.options;
  const unified = o?.kvUnified ?? false;
  let nCtx = pad(unified ? dep.context : dep.context * dep.seqs, 256);
  let nCtxSeq = nCtx;
  if (!unified) {
    nCtxSeq = pad(Math.floor(nCtx / dep.seqs), 256);
    nCtx = nCtxSeq * dep.seqs;
  }
  SCRATCH.nCtxSeq = nCtxSeq;
  SCRATCH.nStream = unified ? 1 : dep.seqs;
  // n_batch = min(n_ctx, n_batch); n_ubatch = min(n_batch, n_ubatch).
  SCRATCH.nUbatch = Math.min(nCtx, o?.batch ?? 2048, o?.ubatch ?? 512);
  return SCRATCH;
}
const SCRATCH = { nCtxSeq: 0, nStream: 0, nUbatch: 0 };

/**
 * The compute buffer llama.cpp reserves (llama-context.cpp sched_reserve -> graph_reserve): the peak offset ggml-alloc
 * reaches (ggml/src/ggml-alloc.c ggml_gallocr_alloc_graph_impl) while it places the worst-case graph: n_tokens =
 * min(n_ctx, n_ubatch) rounded up to a multiple of n_seq_max, every one of n_outputs = min(n_tokens, n_batch) an
 * output. Inputs are placed first and freed after their last consumer; a node reuses its parent only for in-place ops
 * (ggml_op_can_inplace: ADD, MUL, RMS_NORM, SOFT_MAX…; not MUL_MAT, GLU, FLASH_ATTN_EXT, nor ROPE through a reshape
 * view); graph outputs (result_norm, result_output) are never freed. Bytes of the stage that peaks, without the
 * token-embedding input (see llamaCppComputeBuffer). Pure arithmetic: plan()'s hot path.
 */
function computeBuffer(info: ModelInfo, dep: Deployment, fa: boolean): number {
  const c = ctxNumbers(dep);
  const nSeq = dep.seqs;
  const nOut = c.nUbatch;
  // graph_reserve: n_tokens rounded up to a multiple of n_seqs (ubatch_reserve(n_tokens / n_seqs, n_seqs)).
  const t = Math.ceil(nOut / nSeq) * nSeq;
  const e = info.nEmbd;
  const x = 4 * t * e; // one hidden state, f32 [n_embd, n_tokens]
  const q = 4 * t * info.qWidth; // Qcur f32 [n_embd_head_k, n_head, n_tokens]
  // Graph inputs (llama-graph.cpp): inp_pos i32, self_k_idxs / self_v_idxs i64 (v_idxs per element when V is stored
  // transposed, i.e. flash attention off), out_ids i32, and the KQ mask [n_kv, n_tokens / n_stream, 1, n_stream]
  // (f16 with flash attention, else f32) per cache (base, and SWA when present); n_kv = cells of one stream.
  const maskCells = c.nCtxSeq + (info.swaWindow > 0 ? swaCellsFor(info, dep, c.nCtxSeq, c.nUbatch) : 0);
  const inputs = 4 * t + 8 * t + 8 * t * (fa ? 1 : info.maxVElems) + (fa ? 2 : 4) * maskCells * t + 4 * nOut;
  // Output (llama-graph.cpp build output): result_norm f32 [n_embd, n_outputs] stays (graph output) while
  // result_output = mul_mat(output, result_norm) f32 [n_vocab, n_outputs] is placed; every input is freed by then.
  const out = 4 * nOut * e + 4 * nOut * info.nVocab;
  // FFN block (llama-graph.cpp build_ffn, LLM_FFN_SILU + PAR): ffn_inp and ffn_norm [n_embd] below gate, up and the
  // swiglu result [n_ff] (GLU is not in-place, so three n_ff-wide tensors are live at once).
  const ffn = inputs + 2 * x + 3 * 4 * t * info.nFfMax;
  // Attention block (build_attn / build_attn_mha): inpL and attn_norm [n_embd], Qcur and its rope (a new tensor: the
  // rope's parent is a reshape view) [n_head × head_k]; without flash attention the KQ scores f32
  // [n_kv, n_tokens, n_head] (soft_max runs in place) are placed above them.
  let attn = inputs + 2 * x + 2 * q;
  if (!fa) attn += 4 * c.nCtxSeq * t * info.nHead;
  return Math.max(out, ffn, attn);
}

function swaCellsFor(info: ModelInfo, dep: Deployment, nCtxSeq: number, nUbatch: number): number {
  if (dep.options?.swaFull) return nCtxSeq;
  return pad(Math.min(nCtxSeq, info.swaWindow * ((dep.options?.kvUnified ?? false) ? dep.seqs : 1) + nUbatch), 256);
}

/**
 * The compute-buffer estimate split as llama.cpp allocates it: `device` is what activations() reports (the buffer
 * of the backend running the layers and the output); `cpuInputs` are inp_tokens i32 and the token-embedding input
 * inp_embd f32 [n_embd, n_tokens] (llama-graph.cpp build_inp_embd: an input no node consumes when tokens are given,
 * so ggml-alloc never frees it), which sit at the bottom of the CPU buffer (the input layer runs on the CPU): a
 * CPU-only run prints device + cpuInputs. `hiddenState` (f32 [n_embd, n_tokens]) is the size of the allocator hole
 * the closed form does not place.
 */
export function llamaCppComputeBuffer(model: ModelSpec, dep: Deployment): { device: number; cpuInputs: number; hiddenState: number } {
  const info = modelInfo(model);
  const fa = dep.options?.flashAttention ?? true;
  const c = ctxNumbers(dep);
  const t = Math.ceil(c.nUbatch / dep.seqs) * dep.seqs;
  const device = computeBuffer(info, dep, fa);
  return { device, cpuInputs: 4 * t + 4 * t * info.nEmbd, hiddenState: 4 * t * info.nEmbd };
}

export const llamacppProfile: EngineProfile = {
  id: "llama.cpp",
  label: "llama.cpp",
  // Multimodal GGUFs keep the vision tower in a separate mmproj file (tools/mtmd), loaded only with --mmproj.
  loadsVision: false,
  cache(model, dep, layers = true): CacheResult {
    const perLayer = layers ? new Array<number>(model.layers.length) : NO_ROWS;
    const d = llamaCppCaches(model, dep, layers ? perLayer : undefined);
    const total = d.base.kBytes + d.base.vBytes + d.swa.kBytes + d.swa.vBytes + d.recurrent.bytes;
    // Every base-cache layer holds the same cells, so one token of one sequence costs base bytes / cells.
    const bytesPerToken = d.base.layers ? (d.base.kBytes + d.base.vBytes) / (d.base.cells * d.ctx.nStream) : 0;
    const info = modelInfo(model);
    return { perLayer, total, bytesPerToken, basis: info.basis };
  },
  activations(model, dep): Estimate {
    const info = modelInfo(model);
    const fa = dep.options?.flashAttention ?? true;
    return { bytes: computeBuffer(info, dep, fa), basis: fa ? ACT_BASIS_FA : ACT_BASIS_NO_FA };
  },
  overhead(model, dep): Estimate {
    // llama_context::output_reserve(n_seq_max): logits n_vocab × n_seq_max f32 ("output buffer size").
    return { bytes: 4 * model.vocabSize * dep.seqs, basis: OVERHEAD_BASIS };
  },
  fit(model, dep, budget): FitResult {
    return llamaCppFit(model, dep, budget);
  },
  warnings(model) {
    const info = modelInfo(model);
    return info.ignoredSwa ? [`llama.cpp runs ${model.modelType} without sliding-window caching: its sliding layers get a full-size KV cache`] : NO_WARNINGS;
  },
};

const ACT_BASIS_FA = "estimate: llama.cpp device compute buffer = ggml-alloc peak of the n_ubatch reserve graph (sched_reserve): max of logits n_vocab × n_ubatch + result_norm, the FFN block (ffn_inp, ffn_norm, gate, up, swiglu) and the attention block, over the graph inputs (f16 KQ mask n_kv × n_ubatch, positions, cache row ids); n_embd × n_ubatch per allocator hole not counted; CPU-only adds inp_embd n_embd × n_ubatch f32";
const ACT_BASIS_NO_FA = "estimate: llama.cpp device compute buffer = ggml-alloc peak of the n_ubatch reserve graph (sched_reserve): max of logits n_vocab × n_ubatch + result_norm, the FFN block and the attention block with KQ scores n_kv × n_ubatch × n_head f32 (flash attention off, f32 KQ mask); n_embd × n_ubatch per allocator hole not counted; CPU-only adds inp_embd n_embd × n_ubatch f32";
const OVERHEAD_BASIS = "llama.cpp output buffer n_vocab × n_seq f32 (llama-context.cpp output_reserve); backend context (CUDA ~0.3–0.5 GiB per GPU) not included";
const NO_WARNINGS: string[] = [];

function cacheTotal(model: ModelSpec, dep: Deployment): number {
  const d = llamaCppCaches(model, dep);
  return d.base.kBytes + d.base.vBytes + d.swa.kBytes + d.swa.vBytes + d.recurrent.bytes;
}

/** Largest multiple of 256 (llama.cpp's cell granularity) in [256, limit] for which `fits` holds; 0 if none. */
function largestCells(limit: number, fits: (cells: number) => boolean): number {
  let lo = 0;
  let hi = Math.floor(limit / 256);
  if (hi < 1 || !fits(256)) return 0;
  lo = 1;
  if (fits(hi * 256)) return hi * 256;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (fits(mid * 256)) lo = mid;
    else hi = mid;
  }
  return lo * 256;
}

/**
 * `hwledger fit` for llama.cpp. llama.cpp allocates exactly what -c asks for (no utilization cap, no
 * profiling run), so: budget = GPU memory − weights − compute − output buffers (or the KV budget given);
 * kvCapacityTokens = the largest n_ctx whose caches fit when --seqs sequences share one unified cache (-kvu);
 * maxContext = the largest per-sequence context (n_ctx_seq, a multiple of 256) that fits with --seqs streams,
 * capped at the model's trained context. SWA and recurrent caches are counted at their real (constant) size.
 */
export function llamaCppFit(model: ModelSpec, dep: Deployment, budget: FitBudget): FitResult {
  const basis: string[] = [];
  let available = budget.kvBudgetBytes ?? 0;
  if (budget.kvBudgetBytes === undefined) {
    const util = budget.gpuMemoryUtilization ?? 1;
    const fixed = (llamacppProfile.activations(model, dep).bytes + llamacppProfile.overhead(model, dep).bytes) * dep.tp * dep.pp;
    available = budget.gpuMemoryBytes! * util - (weightBytes(model, dep.weights).total + fixed) / (dep.tp * dep.pp);
    basis.push(`llama.cpp: KV budget = ${util} × GPU memory − weights − compute buffer estimate − output buffer, per rank`);
  }
  available = Math.max(0, available);
  const ranks = dep.tp * dep.pp;
  const fitsKv = (d: Deployment) => cacheTotal(model, d) / ranks <= available;
  const shared = { ...dep, options: { ...dep.options, kvUnified: true } };
  const kvCapacityTokens = largestCells(1 << 30, (cells) => fitsKv({ ...shared, context: cells }));
  const maxContext = largestCells(Math.max(256, model.maxContext), (cells) => fitsKv({ ...dep, context: cells }));
  basis.push("llama.cpp: cells in multiples of 256 (llama-context.cpp n_ctx padding); SWA and recurrent caches at their allocated size");
  return { kvCapacityTokens, maxConcurrency: kvCapacityTokens / dep.context, maxContext: Math.min(maxContext, model.maxContext), availableKvBytes: Math.floor(available), basis };
}
