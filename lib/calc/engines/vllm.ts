// vLLM memory profile: paged KV cache, hybrid allocator groups and the whole start-up accounting
// (profile run, "Available KV cache memory", "GPU KV cache size", "Maximum concurrency").
// Modelled on the V1 engine of vLLM 0.10.x–0.11.x (CUDA graphs captured after the KV cache is allocated,
// so graph memory is not subtracted from the budget; v0.21+ subtracts an "Estimated CUDA graph memory").
// Each rule names the vLLM file and function it follows.
import { kvBytes } from "../kvdtype.js";
import { weightScheme } from "../quant.js";
import { InputError } from "../types.js";
import type { Deployment, KvDtype, ModelSpec, TensorSpec } from "../types.js";
import type { FitBudget, FitResult } from "../solve.js";
import type { CacheResult, EngineProfile, Estimate } from "./profile.js";

const GIB = 1024 ** 3;
const cdiv = (a: number, b: number) => Math.ceil(a / b);

/** vllm/config/cache.py CacheConfig.block_size default on CUDA. */
export const VLLM_DEFAULT_BLOCK_SIZE = 16;
/** vllm/model_executor/layers/vocab_parallel_embedding.py DEFAULT_VOCAB_PADDING_SIZE (pad_vocab_size). */
export const VLLM_VOCAB_PADDING = 64;

/**
 * Scheduler defaults for `vllm serve` (UsageContext.OPENAI_API_SERVER): vllm/engine/arg_utils.py
 * EngineArgs.get_batch_defaults — 8192 tokens / 1024 seqs when the GPU has >= 70 GiB and is not an A100,
 * else 2048 / 256 (also what vLLM falls back to when it cannot query the device).
 */
export function vllmSchedulerDefaults(gpuMemoryBytes?: number, gpuName?: string): { maxNumBatchedTokens: number; maxNumSeqs: number } {
  const big = gpuMemoryBytes !== undefined && gpuMemoryBytes >= 70 * GIB && !(gpuName ?? "").toLowerCase().includes("a100");
  return big ? { maxNumBatchedTokens: 8192, maxNumSeqs: 1024 } : { maxNumBatchedTokens: 2048, maxNumSeqs: 256 };
}

/** One layer's cache as one rank stores it (vllm/v1/kv_cache_interface.py specs). */
interface LayerKv {
  layer: number;
  kind: "full" | "sliding" | "chunked" | "mla" | "mamba";
  /** Bytes per token per rank (attention kinds). */
  tokenBytes: number;
  /** Sliding window or attention chunk size. */
  window: number;
  /** Bytes per sequence per rank (MambaSpec.page_size_bytes before padding). */
  stateBytes: number;
}

interface Group {
  kind: LayerKv["kind"];
  window: number;
  blockSize: number;
  /** Page (one block of one layer) in bytes; uniform across groups except in the uniform-type case. */
  page: number;
  layers: number[];
}

/** How vLLM lays the KV cache out for a model and deployment (rank-level, per worker). */
interface Layout {
  mode: "uniform" | "uniform-type" | "hybrid" | "none";
  groups: Group[];
  /** For uniform-type: page per layer index. */
  pageOf: Map<number, number>;
  minBlockSize: number;
  /** Mamba-only models: one block holds a whole sequence (block_size = max_model_len). */
  mambaOnly: boolean;
  /** Layer indices per pipeline stage (get_pp_indices). */
  stages: number[][];
  notes: string[];
}

/** Bytes of one KV element: vLLM uses one dtype for K and V; "auto" is the model dtype. */
function kvElemBytes(dep: Deployment): number {
  if (dep.kvDtypeK !== dep.kvDtypeV) throw new InputError("vLLM uses one --kv-cache-dtype for K and V; give a single --kv-dtype");
  const d: KvDtype = dep.kvDtypeK;
  if (!["f16", "bf16", "f32", "fp8", "fp8_e4m3", "fp8_e5m2"].includes(d)) {
    throw new InputError(`vLLM has no KV cache dtype "${d}" (use auto/f16/bf16, fp8, fp8_e4m3 or fp8_e5m2)`);
  }
  return kvBytes(d, 1);
}

/** vllm/distributed/utils.py get_pp_indices: even split, the remainder goes to the stages before the last. */
export function ppStageLayers(nLayers: number, pp: number): number[][] {
  const sizes = new Array<number>(pp).fill(Math.floor(nLayers / pp));
  const rem = nLayers % pp;
  for (let i = 2; i < rem + 2; i++) sizes[pp - i] += 1;
  const out: number[][] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(Array.from({ length: s }, (_, k) => start + k));
    start += s;
  }
  return out;
}

function layerKvs(model: ModelSpec, dep: Deployment, e: number): LayerKv[] {
  const out: LayerKv[] = [];
  for (const l of model.layers) {
    const c = l.cache;
    switch (c.kind) {
      case "full":
      case "sliding":
      case "chunked":
      case "cross": {
        // KV heads per rank: max(1, total_kv_heads // tp) — replicated when tp > heads
        // (e.g. vllm/model_executor/models/llama.py LlamaAttention.__init__, QKVParallelLinear).
        const heads = Math.max(1, Math.floor(c.nKvHeads / dep.tp));
        // FullAttentionSpec.real_page_size_bytes: block_size × heads × (head_size + head_size_v) × dtype.
        const tokenBytes = heads * (c.headDimK + c.headDimV) * e;
        const kind = c.kind === "cross" ? "full" : c.kind;
        const window = c.kind === "sliding" ? c.window : c.kind === "chunked" ? c.chunk : 0;
        out.push({ layer: l.index, kind, tokenBytes, window, stateBytes: 0 });
        break;
      }
      case "mla":
        // MLAAttentionSpec.real_page_size_bytes: one latent "head" of kv_lora_rank + rope dims, no V,
        // the same on every TP rank (the latent is not sharded).
        out.push({ layer: l.index, kind: "mla", tokenBytes: (c.kvLoraRank + c.ropeDim) * e, window: 0, stateBytes: 0 });
        break;
      case "recurrent":
        // MambaSpec.page_size_bytes = Σ prod(state shape) × dtype; conv and SSM/delta states are sharded over TP
        // heads (mamba_mixer2.py get_state_shape). State dtype = model dtype (mamba_ssm_cache_dtype "auto").
        out.push({ layer: l.index, kind: "mamba", tokenBytes: 0, window: 0, stateBytes: Math.ceil((c.convElems + c.stateElems) / dep.tp) * 2 });
        break;
      default:
        break;
    }
  }
  return out;
}

const keyOf = (k: LayerKv) => `${k.kind}:${k.tokenBytes}:${k.window}:${k.stateBytes}`;

/**
 * vllm/v1/core/kv_cache_utils.py get_kv_cache_groups: one group when every layer has the same spec
 * (_get_kv_cache_groups_uniform_spec) or the same type with different sizes (UniformTypeKVCacheSpecs);
 * otherwise unify page sizes (unify_kv_cache_spec_page_size) and split each type into groups of
 * group_size layers (_get_kv_cache_groups_uniform_page_size).
 */
function buildLayout(model: ModelSpec, dep: Deployment): Layout {
  const e = kvElemBytes(dep);
  const bs = dep.options?.blockSize ?? VLLM_DEFAULT_BLOCK_SIZE;
  if (!Number.isInteger(bs) || bs <= 0) throw new InputError(`--block-size must be a positive integer, got ${bs}`);
  const kvs = layerKvs(model, dep, e);
  const stages = ppStageLayers(model.layers.length, dep.pp).map((s) => s.filter((i) => kvs.some((k) => k.layer === i)));
  const notes: string[] = [];
  const empty: Layout = { mode: "none", groups: [], pageOf: new Map(), minBlockSize: bs, mambaOnly: false, stages, notes };
  if (kvs.length === 0) return empty;
  const attn = kvs.filter((k) => k.kind !== "mamba");
  const mamba = kvs.filter((k) => k.kind === "mamba");
  const keys = new Set(kvs.map(keyOf));

  if (mamba.length && !attn.length) {
    // Attention-free: MambaModelConfig.verify_and_update_config sets the block size to max_model_len, one block per sequence.
    const page = mamba[0].stateBytes;
    if (keys.size > 1) notes.push("vLLM: Mamba layers with different state sizes are planned with the largest state");
    const maxPage = Math.max(...mamba.map((m) => m.stateBytes));
    return { ...empty, mode: "uniform", mambaOnly: true, groups: [{ kind: "mamba", window: 0, blockSize: dep.context, page: Math.max(page, maxPage), layers: mamba.map((m) => m.layer) }] };
  }

  if (keys.size === 1) {
    const k = kvs[0];
    return { ...empty, mode: "uniform", groups: [{ kind: k.kind, window: k.window, blockSize: bs, page: bs * k.tokenBytes, layers: kvs.map((x) => x.layer) }] };
  }
  const kinds = new Set(kvs.map((k) => `${k.kind}:${k.window}`));
  if (kinds.size === 1) {
    // UniformTypeKVCacheSpecs: same kind and window, different per-layer sizes: one group, per-layer pages.
    const pageOf = new Map(kvs.map((k) => [k.layer, bs * k.tokenBytes] as [number, number]));
    return { ...empty, mode: "uniform-type", pageOf, groups: [{ kind: kvs[0].kind, window: kvs[0].window, blockSize: bs, page: 0, layers: kvs.map((x) => x.layer) }] };
  }

  // Hybrid. With Mamba layers, vllm/model_executor/models/config.py HybridAttentionMambaModelConfig raises the
  // attention block size to a multiple of 16 whose page covers the Mamba state, then pads the Mamba page to it.
  let attnBs = bs;
  const pages = new Map<LayerKv, { page: number; blockSize: number }>();
  if (mamba.length) {
    const mambaPage = Math.max(...mamba.map((m) => m.stateBytes));
    const perTok = Math.max(...attn.map((a) => a.tokenBytes));
    attnBs = Math.max(bs, 16 * cdiv(mambaPage, 16 * perTok));
    for (const m of mamba) pages.set(m, { page: attnBs * perTok, blockSize: attnBs });
  }
  for (const a of attn) pages.set(a, { page: attnBs * a.tokenBytes, blockSize: attnBs });
  // unify_kv_cache_spec_page_size: smaller pages grow their block size by max_page / page (must divide).
  const maxPage = Math.max(...[...pages.values()].map((p) => p.page));
  for (const [k, p] of pages) {
    if (p.page === maxPage) continue;
    if (maxPage % p.page !== 0) throw new InputError(`vLLM cannot unify KV page sizes for ${model.id} (${p.page} does not divide ${maxPage} bytes)`);
    pages.set(k, { page: maxPage, blockSize: p.blockSize * (maxPage / p.page) });
  }
  // Group by spec; group_size = fewest layers of a type, or the most when max < 1.5 × min.
  const byType = new Map<string, LayerKv[]>();
  for (const k of kvs) {
    const key = `${keyOf(k)}:${pages.get(k)!.blockSize}`;
    if (!byType.has(key)) byType.set(key, []);
    byType.get(key)!.push(k);
  }
  const counts = [...byType.values()].map((v) => v.length);
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  const groupSize = max < min * 1.5 ? max : min;
  const groups: Group[] = [];
  for (const layers of byType.values()) {
    const n = cdiv(layers.length, groupSize);
    if (layers.length % groupSize) notes.push(`vLLM pads ${groupSize - (layers.length % groupSize)} ${layers[0].kind} layer(s) to fill its KV cache groups`);
    // layers[i::num_groups] to the i-th group, so pipeline stages stay balanced.
    for (let i = 0; i < n; i++) {
      const members = layers.filter((_, j) => j % n === i);
      const p = pages.get(members[0])!;
      groups.push({ kind: members[0].kind, window: members[0].window, blockSize: p.blockSize, page: p.page, layers: members.map((m) => m.layer) });
    }
  }
  return { ...empty, mode: "hybrid", groups, minBlockSize: Math.min(...groups.map((g) => g.blockSize)) };
}

const layoutCache = new WeakMap<ModelSpec, Map<string, Layout>>();

function layoutOf(model: ModelSpec, dep: Deployment): Layout {
  let m = layoutCache.get(model);
  if (!m) layoutCache.set(model, (m = new Map()));
  const key = `${dep.tp}|${dep.pp}|${dep.kvDtypeK}|${dep.kvDtypeV}|${dep.options?.blockSize ?? ""}|${dep.context}`;
  let l = m.get(key);
  if (!l) {
    // Context matters only for Mamba-only block sizes; keep the key small otherwise.
    l = buildLayout(model, dep);
    m.set(key, l);
  }
  return l;
}

/**
 * Max bytes one request needs in one layer of a group (vllm/v1/kv_cache_interface.py max_memory_usage_bytes):
 * full/MLA cdiv(max_model_len, bs) pages; sliding (cdiv(min(window − 1 + max_num_batched_tokens, len), bs) + 1);
 * chunked cdiv(min(chunk + max_num_batched_tokens, len), bs); Mamba one page.
 */
function requestBlocks(g: Group, len: number, mnbt: number): number {
  switch (g.kind) {
    case "full":
    case "mla":
      return cdiv(len, g.blockSize);
    case "sliding":
      return cdiv(Math.min(g.window - 1 + mnbt, len), g.blockSize) + 1;
    case "chunked":
      return cdiv(Math.min(g.window + mnbt, len), g.blockSize);
    case "mamba":
      return 1;
  }
}

/** Bytes per block across the layers one worker holds, i.e. the divisor of get_num_blocks. */
function bytesPerBlock(l: Layout, stage: number[]): number {
  const on = new Set(stage);
  if (l.mode === "uniform-type") {
    let s = 0;
    for (const i of stage) s += l.pageOf.get(i) ?? 0;
    return s;
  }
  // Uniform: page × layers; hybrid: page × group_size where group_size = max layers of a group on this worker.
  let groupSize = 0;
  for (const g of l.groups) groupSize = Math.max(groupSize, g.layers.filter((i) => on.has(i)).length);
  return l.groups[0].page * groupSize;
}

/** Blocks one request of `len` tokens needs (get_max_concurrency_for_kv_cache_config denominator). */
function blocksPerRequest(l: Layout, len: number, mnbt: number): number {
  if (l.mambaOnly) return 1;
  if (l.mode === "uniform-type") return requestBlocks(l.groups[0], len, mnbt);
  let blocks = 0;
  for (const g of l.groups) blocks += requestBlocks(g, len, mnbt);
  return blocks;
}

export interface VllmKvResult {
  numBlocks: number;
  kvCapacityTokens: number;
  maxConcurrency: number;
  maxContext: number;
}

/**
 * From per-worker KV budgets to vLLM's printed figures (kv_cache_utils.py get_kv_cache_configs: num_blocks per
 * worker = available // page // group_size (get_num_blocks), then the minimum over workers;
 * _report_kv_cache_config: tokens = num_blocks // len(groups) × min_block_size; concurrency = num_blocks /
 * cdiv(Σ_group max_memory_usage, page)).
 */
export function vllmKvFromBudget(model: ModelSpec, dep: Deployment, availablePerStage: number[]): VllmKvResult {
  const l = layoutOf(model, dep);
  const mnbt = dep.options?.maxNumBatchedTokens ?? vllmSchedulerDefaults().maxNumBatchedTokens;
  if (l.mode === "none") return { numBlocks: 1, kvCapacityTokens: 0, maxConcurrency: Number.POSITIVE_INFINITY, maxContext: model.maxContext };
  let numBlocks = Number.POSITIVE_INFINITY;
  l.stages.forEach((stage, s) => {
    if (!stage.length) return;
    const per = bytesPerBlock(l, stage);
    numBlocks = Math.min(numBlocks, Math.max(0, Math.floor(Math.floor(availablePerStage[s] ?? availablePerStage[0]) / per)));
  });
  if (!Number.isFinite(numBlocks)) numBlocks = 0;
  const blockTokens = l.mambaOnly ? dep.context : l.minBlockSize;
  const kvCapacityTokens = Math.floor(numBlocks / l.groups.length) * blockTokens;
  const maxConcurrency = numBlocks / blocksPerRequest(l, dep.context, mnbt);
  // estimate_max_model_len: largest length whose request fits the blocks (equivalent to the byte test).
  let maxContext = 0;
  if (blocksPerRequest(l, 1, mnbt) <= numBlocks) {
    let lo = 1;
    let hi = Math.max(1, model.maxContext);
    if (blocksPerRequest(l, hi, mnbt) <= numBlocks) lo = hi;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (blocksPerRequest(l, mid, mnbt) <= numBlocks) lo = mid;
      else hi = mid;
    }
    maxContext = l.mambaOnly ? model.maxContext : lo;
  }
  return { numBlocks, kvCapacityTokens, maxConcurrency, maxContext };
}

// ---------------------------------------------------------------- weights per rank

/** Which tensors vLLM keeps whole on every TP rank (ReplicatedLinear, norms, the MoE router). */
function replicated(t: TensorSpec): boolean {
  return t.role === "norm" || t.role === "router" || /attn_(q_a|kv_a)/.test(t.name);
}

const weightCache = new WeakMap<ModelSpec, Map<string, number[]>>();

/**
 * Weight bytes each pipeline stage's TP rank loads: column/row-parallel layers split by tp, replicated ones
 * whole, K/V projections hold max(1, kv_heads / tp) heads (QKVParallelLinear replicates KV heads when tp >
 * heads), and embedding / lm_head are padded to a multiple of 64 rows (VocabParallelEmbedding pad_vocab_size)
 * then split by tp. Stage 0 holds the embedding, the last stage the lm_head (a tied head is loaded there too).
 */
export function vllmWeightsPerRank(model: ModelSpec, dep: Deployment): number[] {
  let m = weightCache.get(model);
  if (!m) weightCache.set(model, (m = new Map()));
  const key = `${dep.weights}|${dep.tp}|${dep.pp}`;
  const hit = m.get(key);
  if (hit) return hit;
  const scheme = weightScheme(dep.weights);
  const tp = dep.tp;
  const vPad = Math.ceil(model.vocabSize / VLLM_VOCAB_PADDING) * VLLM_VOCAB_PADDING;
  const stages = ppStageLayers(model.layers.length, dep.pp);
  const out: number[] = [];
  const embed = model.globals.find((t) => t.role === "embedding");
  const head = model.globals.find((t) => t.role === "lm_head") ?? embed;
  const vocabBytes = (t: TensorSpec | undefined) => (t ? (scheme.tensorBytes(t, { model, layerIndex: -1 }) * vPad) / model.vocabSize / tp : 0);
  for (let s = 0; s < stages.length; s++) {
    let b = 0;
    for (const i of stages[s]) {
      const l = model.layers[i];
      const c = l.cache;
      const kvHeads = "nKvHeads" in c ? c.nKvHeads : 0;
      for (const t of l.tensors) {
        const bytes = scheme.tensorBytes(t, { model, layerIndex: l.index });
        if (replicated(t)) b += bytes;
        else if (kvHeads && /attn_[kv](\.|$)/.test(t.name)) b += (bytes * Math.max(1, Math.floor(kvHeads / tp))) / kvHeads;
        else b += bytes / tp;
      }
    }
    if (s === 0) b += vocabBytes(embed) + (model.vision ? (model.vision.params * 2) / tp : 0);
    if (s === stages.length - 1 && (head !== embed || stages.length > 1)) b += vocabBytes(head);
    for (const t of model.globals) if (t.role === "norm" && s === stages.length - 1) b += scheme.tensorBytes(t, { model, layerIndex: -1 });
    out.push(Math.round(b));
  }
  m.set(key, out);
  return out;
}

// ---------------------------------------------------------------- profile run

/** Logit bytes per (request, vocab entry) in the sampler warm-up of the profile run. */
const SAMPLER_BYTES = {
  // compute_logits output (model dtype) + the fp32 copy (v1/sample/sampler.py Sampler.forward) + softmax probs
  // handed to flashinfer top_k_top_p_sampling_from_probs (v1/sample/ops/topk_topp_sampler.py forward_cuda).
  flashinfer: 2 + 4 + 4,
  // PyTorch path apply_top_k_top_p: fp32 logits + sorted values (fp32) + sort indices (int64) + softmax of the
  // sorted logits (fp32) + a bool mask, all alive together (the dummy run sets top_k = V − 1 and top_p = 0.9).
  native: 2 + 4 + 4 + 8 + 4 + 1,
} as const;

const ffnCache = new WeakMap<ModelSpec, { dense: number; expert: number; topk: number; shared: number; attnQ: number; attnKv: number; attnOut: number }[]>();

/** Per-layer widths the forward pass materialises (from the tensor shapes: ne0 = input, ne1 = output). */
function layerWidths(model: ModelSpec) {
  let w = ffnCache.get(model);
  if (w) return w;
  w = model.layers.map((l) => {
    let dense = 0, expert = 0, shared = 0, attnQ = 0, attnKv = 0, attnOut = 0;
    for (const t of l.tensors) {
      const n = t.name.slice(t.name.indexOf(".", 4) + 1);
      if (n === "ffn_gate" || n === "ffn_up") dense += t.shape[1];
      else if (n === "ffn_gate_exps" || n === "ffn_up_exps") expert += t.shape[1];
      else if (n === "ffn_gate_shexp" || n === "ffn_up_shexp") shared += t.shape[1];
      else if (n === "attn_q" || n === "attn_q_b") attnQ += t.shape[1];
      else if (n === "attn_k" || n === "attn_v" || n === "attn_kv_b") attnKv += t.shape[1];
      else if (n === "attn_output") attnOut += t.shape[0];
      else if (n === "ssm_in") attnQ += t.shape[1];
    }
    return { dense, expert, topk: l.moe?.activeExperts ?? 0, shared, attnQ, attnKv, attnOut };
  });
  ffnCache.set(model, w);
  return w;
}

/**
 * Peak of torch's allocator during GPUModelRunner.profile_run (v1/worker/gpu_model_runner.py): _dummy_run with
 * max_num_batched_tokens tokens spread over min(max_num_seqs, tokens) requests (attention kernels skipped, so
 * only projections and MLP outputs are materialised), then _dummy_sampler_run on one row per request.
 * Estimate: the residual stream (3 × T × hidden) plus the widest layer transient (gate_up + act = 1.5 × gate_up
 * width; fused_moe intermediate caches T × top_k × (3 N + hidden)), or the sampler warm-up, whichever is larger.
 */
export function vllmProfilePeak(model: ModelSpec, dep: Deployment, stageLayers?: number[], lastStage = true): Estimate {
  const o = dep.options ?? {};
  const defaults = vllmSchedulerDefaults();
  const T = o.maxNumBatchedTokens ?? defaults.maxNumBatchedTokens;
  const R = Math.min(o.maxNumSeqs ?? defaults.maxNumSeqs, T);
  const a = 2; // activations run in the model dtype (fp16/bf16)
  const tp = dep.tp;
  const widths = layerWidths(model);
  let widest = 0;
  for (const i of stageLayers ?? widths.map((_, k) => k)) {
    const w = widths[i];
    // Attention: qkv output and attention output alive together.
    const attn = (w.attnQ + w.attnKv + w.attnOut) / tp;
    // Dense MLP: gate_up (2I) + SiluAndMul output (I).
    const mlp = (w.dense * 3) / 2 / tp + (w.shared * 3) / 2 / tp;
    // fused_moe (layers/fused_moe/fused_moe.py fused_experts_impl): intermediate_cache1 [M, top_k, 2N],
    // cache2 [M·top_k, N], cache3 [M, top_k, hidden], N = expert intermediate / tp.
    const moe = w.topk ? w.topk * ((w.expert / tp) * 1.5 + model.hiddenSize) : 0;
    widest = Math.max(widest, attn, mlp + moe);
  }
  const forward = T * (3 * model.hiddenSize + widest) * a;
  const vPad = Math.ceil(model.vocabSize / VLLM_VOCAB_PADDING) * VLLM_VOCAB_PADDING;
  const sampler = o.sampler ?? "flashinfer";
  const sample = lastStage ? T * model.hiddenSize * a + R * vPad * SAMPLER_BYTES[sampler] : 0;
  const bytes = Math.max(forward, sample);
  return {
    bytes,
    basis: `estimate: profile_run peak with max_num_batched_tokens ${T}, ${R} dummy requests: forward ${(forward / GIB).toFixed(3)} GiB, sampler warm-up (${sampler}) ${(sample / GIB).toFixed(3)} GiB`,
  };
}

/**
 * Non-torch memory that appears between the worker's first memory snapshot and the end of the profile run
 * (vllm/utils memory_profiling non_torch_increase): lazily loaded CUDA modules and cuBLAS handles, plus NCCL
 * communicator buffers when the worker has peers (pynccl and the torch device group: NCCL_BUFFSIZE 4 MiB per
 * protocol × channels × peers). Estimate.
 */
export function vllmNonTorch(dep: Deployment): Estimate {
  const world = dep.tp * dep.pp;
  const base = 0.05 * GIB;
  const nccl = world > 1 ? 0.22 * GIB : 0;
  return { bytes: base + nccl, basis: `estimate: non-torch increase ${((base + nccl) / GIB).toFixed(2)} GiB (CUDA modules, cuBLAS${world > 1 ? ", NCCL buffers" : ""})` };
}

export interface StartupAccounting {
  /** Per pipeline stage (each TP rank of a stage is identical). */
  requestedBytes: number;
  weightsBytes: number[];
  peakBytes: number[];
  nonTorchBytes: number;
  availableBytes: number[];
  basis: string[];
}

/**
 * vllm/v1/worker/gpu_worker.py Worker.determine_available_memory: requested = total × gpu_memory_utilization
 * (init_device), available KV = requested − (weights + torch peak increase of profile_run + non-torch increase).
 * The CUDA context predates the first snapshot and so sits inside the (1 − utilization) margin.
 */
export function vllmStartup(model: ModelSpec, dep: Deployment, gpuMemoryBytes: number, utilization: number, weightsOverride?: number): StartupAccounting {
  const l = layoutOf(model, dep);
  const weights = weightsOverride !== undefined ? l.stages.map(() => weightsOverride) : vllmWeightsPerRank(model, dep);
  const nt = vllmNonTorch(dep);
  const stages = ppStageLayers(model.layers.length, dep.pp);
  const peaks = stages.map((s, i) => vllmProfilePeak(model, dep, s, i === stages.length - 1));
  const requested = gpuMemoryBytes * utilization;
  const available = stages.map((_, i) => Math.floor(requested - weights[i] - peaks[i].bytes - nt.bytes));
  return {
    requestedBytes: requested,
    weightsBytes: weights,
    peakBytes: peaks.map((p) => p.bytes),
    nonTorchBytes: nt.bytes,
    availableBytes: available,
    basis: [
      `vLLM: available KV = ${utilization} × ${(gpuMemoryBytes / GIB).toFixed(2)} GiB − weights − profile peak − non-torch, per rank (gpu_worker.py determine_available_memory)`,
      peaks[peaks.length - 1].basis,
      nt.basis,
    ],
  };
}

function effectiveOptions(dep: Deployment, gpuMemoryBytes?: number): Deployment {
  const d = vllmSchedulerDefaults(gpuMemoryBytes);
  const o = dep.options ?? {};
  return { ...dep, options: { ...o, maxNumBatchedTokens: o.maxNumBatchedTokens ?? d.maxNumBatchedTokens, maxNumSeqs: o.maxNumSeqs ?? d.maxNumSeqs } };
}

function fitVllm(model: ModelSpec, dep0: Deployment, budget: FitBudget): FitResult {
  const dep = effectiveOptions(dep0, budget.gpuMemoryBytes);
  const l = layoutOf(model, dep);
  let avail: number[];
  const basis = [...l.notes];
  if (budget.kvBudgetBytes !== undefined) {
    avail = l.stages.map(() => budget.kvBudgetBytes!);
    basis.push("vLLM: KV budget per rank given (\"Available KV cache memory\")");
  } else {
    const util = budget.gpuMemoryUtilization ?? dep.options?.gpuMemoryUtilization ?? 0.9;
    const s = vllmStartup(model, dep, budget.gpuMemoryBytes!, util);
    avail = s.availableBytes;
    basis.push(...s.basis);
    if (avail.some((x) => x <= 0)) throw new InputError(`vLLM would have no memory for the KV cache (available ${(Math.min(...avail) / GIB).toFixed(2)} GiB per rank): raise --gpu-memory-utilization or use more GPUs`);
  }
  const r = vllmKvFromBudget(model, dep, avail);
  basis.push(`vLLM: ${l.mode} KV layout, ${l.groups.length} group(s), block size ${l.minBlockSize}; ${r.numBlocks} blocks (kv_cache_utils.py get_kv_cache_configs)`);
  return { kvCapacityTokens: r.kvCapacityTokens, maxConcurrency: r.maxConcurrency, maxContext: r.maxContext, availableKvBytes: Math.min(...avail), basis };
}

// ---------------------------------------------------------------- plan() hooks

export const vllmProfile: EngineProfile = {
  id: "vllm",
  label: "vLLM",
  cache(model, dep): CacheResult {
    const d = effectiveOptions(dep);
    const l = layoutOf(model, d);
    const mnbt = d.options!.maxNumBatchedTokens!;
    const stageOf = new Map<number, number>();
    l.stages.forEach((s, i) => s.forEach((j) => stageOf.set(j, i)));
    // What the requests of this deployment occupy: blocks per request per layer × page, on each TP rank.
    let total = 0;
    let bytesPerToken = 0;
    const per = new Map<number, number>();
    for (const g of l.groups) {
      const blocks = requestBlocks(g, dep.context, mnbt) * dep.seqs;
      for (const i of g.layers) {
        const page = l.mode === "uniform-type" ? l.pageOf.get(i)! : g.page;
        const b = blocks * page * dep.tp;
        per.set(i, b);
        total += b;
        if (g.kind === "full" || g.kind === "mla") bytesPerToken += (page / g.blockSize) * dep.tp;
      }
    }
    const n = model.layers.length;
    return {
      get perLayer() {
        return Array.from({ length: n }, (_, i) => per.get(i) ?? 0);
      },
      total,
      bytesPerToken,
      basis: [`vLLM: ${l.groups.length} KV cache group(s) of ${l.minBlockSize}-token blocks (kv_cache_interface.py page_size_bytes, max_memory_usage_bytes)`],
    };
  },
  activations(model, dep) {
    const d = effectiveOptions(dep);
    const stages = ppStageLayers(model.layers.length, dep.pp);
    return vllmProfilePeak(model, d, stages[stages.length - 1], true);
  },
  overhead(_model, dep) {
    return vllmNonTorch(dep);
  },
  weightAdjustment(model, dep) {
    // VocabParallelEmbedding / ParallelLMHead pad the vocabulary to a multiple of 64 rows.
    const vPad = Math.ceil(model.vocabSize / VLLM_VOCAB_PADDING) * VLLM_VOCAB_PADDING;
    if (vPad === model.vocabSize) return { bytes: 0, basis: "vLLM: vocabulary already a multiple of 64" };
    const scheme = weightScheme(dep.weights);
    let extra = 0;
    for (const t of model.globals) {
      if (t.role === "embedding" || t.role === "lm_head") extra += (scheme.tensorBytes(t, { model, layerIndex: -1 }) * (vPad - model.vocabSize)) / model.vocabSize;
    }
    return { bytes: Math.round(extra), basis: `vLLM pads the vocabulary ${model.vocabSize} → ${vPad} rows (pad_vocab_size)` };
  },
  warnings(model, dep) {
    const w: string[] = [];
    const kv = model.layers.find((l) => "nKvHeads" in l.cache);
    if (kv && "nKvHeads" in kv.cache && dep.tp > kv.cache.nKvHeads) w.push(`vLLM replicates KV heads: tp ${dep.tp} > ${kv.cache.nKvHeads} KV heads, each rank caches one head`);
    return w;
  },
  fit: fitVllm,
};
