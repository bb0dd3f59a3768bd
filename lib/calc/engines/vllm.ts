// vLLM memory profile: paged KV cache, hybrid allocator groups and the whole start-up accounting
// (profile run, "Available KV cache memory", "GPU KV cache size", "Maximum concurrency").
// Modelled on the V1 engine of vLLM 0.10.x–0.13 (CUDA graphs captured after the KV cache is allocated, so graph
// memory is not subtracted from the budget). EngineOptions.vllmVersion switches on the later start-up rules, each
// gated where it is defined: 0.21 tokens report and CUDA graph estimate (reportsConcurrencyTokens,
// subtractsCudaGraphEstimate), 0.26 in-flight tokens for sliding/chunked groups (vllmInFlightTokens), 0.28.1 null
// block in the max_model_len check (reservesNullBlock).
// Each rule names the vLLM file and function it follows.
import { mlaLatentElems } from "../cache/mla.js";
import { kvBytes } from "../kvdtype.js";
import { weightScheme } from "../weights.js";
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
 * else 2048 / 256 (also what vLLM falls back to when it cannot query the device). From 0.28.0 the large-GPU token
 * budget is 16384 (vllm-project/vllm#51726, merged 2026-08-10; the v0.28.0 release notes list the new default).
 */
export function vllmSchedulerDefaults(gpuMemoryBytes?: number, gpuName?: string, version?: string): { maxNumBatchedTokens: number; maxNumSeqs: number } {
  const big = gpuMemoryBytes !== undefined && gpuMemoryBytes >= 70 * GIB && !(gpuName ?? "").toLowerCase().includes("a100");
  if (!big) return { maxNumBatchedTokens: 2048, maxNumSeqs: 256 };
  return { maxNumBatchedTokens: vllmAtLeast(version, 0, 28) ? 16384 : 8192, maxNumSeqs: 1024 };
}

/**
 * The max_num_batched_tokens vLLM uses when the user gives none: the scheduler default, raised for a multimodal
 * prefix-LM model to its largest item (vllm/engine/arg_utils.py: "Raising max_num_batched_tokens from %d to %d to
 * accommodate '%s' input for prefix-LM model", _get_min_mm_batched_tokens; only when the flag was not set).
 */
export function vllmDefaultBatchedTokens(model: ModelSpec, gpuMemoryBytes?: number, version?: string): number {
  return Math.max(vllmSchedulerDefaults(gpuMemoryBytes, undefined, version).maxNumBatchedTokens, model.vision?.prefixLmItemTokens ?? 0);
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
const stageMemo = new Map<number, number[][]>();
export function ppStageLayers(nLayers: number, pp: number): number[][] {
  // Pure in (layers, pp) and asked on every plan: computed once (callers only read the arrays).
  const key = nLayers * 4096 + pp;
  const hit = stageMemo.get(key);
  if (hit) return hit;
  const sizes = new Array<number>(pp).fill(Math.floor(nLayers / pp));
  const rem = nLayers % pp;
  for (let i = 2; i < rem + 2; i++) sizes[pp - i] += 1;
  const out: number[][] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(Array.from({ length: s }, (_, k) => start + k));
    start += s;
  }
  stageMemo.set(key, out);
  return out;
}

/**
 * Bytes per element of the recurrent (SSM / delta-rule) state. --mamba-ssm-cache-dtype "auto" is the model dtype,
 * except where vllm/model_executor/models/config.py rewrites "auto" from the checkpoint:
 * NemotronHForCausalLMConfig.update_mamba_ssm_cache_dtype (hf mamba_ssm_cache_dtype, default "float32") and
 * Qwen3_5ForConditionalGenerationConfig.verify_and_update_config (hf mamba_ssm_dtype, "float32" in the Qwen3.5
 * checkpoints). Evidence: Nemotron-3-Nano TP2 fp8 KV prints 4176-token blocks (fp32 state; bf16 would give 2128),
 * Qwen3.5-35B-A3B fp16 prints "Setting attention block size to 1056 tokens" (fp32; bf16 would give 544). Both
 * logs are from vLLM ≥ 0.13 (the hooks were read in a recent main); when they first appeared was not checked, and a
 * release without them keeps the model dtype (2 bytes).
 */
function vllmSsmStateBytes(model: ModelSpec): number {
  if (model.modelType === "nemotron_h" || model.modelType === "qwen3_5" || model.modelType === "qwen3_5_moe") return 4;
  return 2;
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
        // MLAAttentionSpec.real_page_size_bytes: the latent (cache/mla.ts), the same on every TP rank.
        out.push({ layer: l.index, kind: "mla", tokenBytes: mlaLatentElems(c) * e, window: 0, stateBytes: 0 });
        break;
      case "recurrent": {
        // MambaSpec.page_size_bytes = Σ prod(state shape) × dtype; conv and SSM/delta states are sharded over TP
        // heads (mamba_mixer2.py get_state_shape). Conv state: model dtype; SSM state: mamba_ssm_cache_dtype.
        const ssmBytes = vllmSsmStateBytes(model);
        out.push({ layer: l.index, kind: "mamba", tokenBytes: 0, window: 0, stateBytes: Math.ceil(c.convElems / dep.tp) * 2 + Math.ceil(c.stateElems / dep.tp) * ssmBytes });
        break;
      }
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
    // The block is max_model_len tokens long; vllmKvFromBudget applies it (the layout is shared across contexts).
    return { ...empty, mode: "uniform", mambaOnly: true, groups: [{ kind: "mamba", window: 0, blockSize: bs, page: Math.max(page, maxPage), layers: mamba.map((m) => m.layer) }] };
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

const lastLayout = new WeakMap<ModelSpec, { tp: number; pp: number; k: string; v: string; bs?: number; layout: Layout }>();

function layoutOf(model: ModelSpec, dep: Deployment): Layout {
  // Fast path: sliders re-plan the same model with a new context; the layout does not depend on it.
  const last = lastLayout.get(model);
  const bs = dep.options?.blockSize;
  if (last && last.tp === dep.tp && last.pp === dep.pp && last.k === dep.kvDtypeK && last.v === dep.kvDtypeV && last.bs === bs) return last.layout;
  let m = layoutCache.get(model);
  if (!m) layoutCache.set(model, (m = new Map()));
  const key = `${dep.tp}|${dep.pp}|${dep.kvDtypeK}|${dep.kvDtypeV}|${bs ?? ""}`;
  let l = m.get(key);
  if (!l) {
    l = buildLayout(model, dep);
    m.set(key, l);
  }
  lastLayout.set(model, { tp: dep.tp, pp: dep.pp, k: dep.kvDtypeK, v: dep.kvDtypeV, bs, layout: l });
  return l;
}

/**
 * Max bytes one request needs in one layer of a group (vllm/v1/kv_cache_interface.py max_memory_usage_bytes, from
 * 0.20 via max_admission_blocks_per_request): full/MLA cdiv(max_model_len, bs) pages; sliding
 * (cdiv(min(window − 1 + in_flight, len), bs) + 1); chunked cdiv(min(chunk + in_flight, len), bs); Mamba one page.
 * `inFlight` is max_num_batched_tokens up to 0.25 and VllmConfig.max_in_flight_tokens from 0.26 (vllmInFlightTokens).
 */
function requestBlocks(g: Group, len: number, inFlight: number): number {
  switch (g.kind) {
    case "full":
    case "mla":
      return cdiv(len, g.blockSize);
    case "sliding":
      return cdiv(Math.min(g.window - 1 + inFlight, len), g.blockSize) + 1;
    case "chunked":
      return cdiv(Math.min(g.window + inFlight, len), g.blockSize);
    case "mamba":
      return 1;
  }
}

// ---------------------------------------------------------------- release rules

const releaseMemo = new Map<string, number>();
/** "0.25.1" → 2501 (minor × 100 + patch, major × 10⁶); malformed → InputError. Memoized (the plan path asks per call). */
function releaseKey(version: string): number {
  let k = releaseMemo.get(version);
  if (k === undefined) {
    const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
    if (!m) throw new InputError(`vLLM version "${version}" is not of the form MAJOR.MINOR[.PATCH]`);
    k = Number(m[1]) * 1e6 + Number(m[2]) * 100 + Number(m[3] ?? 0);
    releaseMemo.set(version, k);
  }
  return k;
}

/** Whether `version` (absent = the 0.10–0.20 behaviour) is at least MAJOR.MINOR.PATCH. */
export function vllmAtLeast(version: string | undefined, major: number, minor: number, patch = 0): boolean {
  if (!version) return false;
  return releaseKey(version) >= major * 1e6 + minor * 100 + patch;
}

/**
 * Tokens a recycling-aware (sliding-window / chunked-local) KV group reserves per request beyond its window.
 * Up to 0.25: max_num_batched_tokens. From 0.26.0 (vllm-project/vllm#47728, "Free out-of-window blocks on the
 * processed-token basis under async scheduling"; vllm#49878 traces the Gemma 4 jump between 0.25.1 and 0.26 to it):
 * vllm/config/vllm.py VllmConfig.max_in_flight_tokens = max_concurrent_batches × max_num_batched_tokens, where
 * max_concurrent_batches is 2 under async scheduling with pp = 1 (the default scheduler since 0.14: "Asynchronous
 * scheduling is enabled"), and pp otherwise (V1 model runner; the V2 runner's pp + 1 is not modelled).
 */
export function vllmInFlightTokens(version: string | undefined, mnbt: number, pp: number): number {
  if (!vllmAtLeast(version, 0, 26)) return mnbt;
  return (pp <= 1 ? 2 : pp) * mnbt;
}

/**
 * From 0.28.1 (vllm-project/vllm#47272, merged 2026-08-20 after the v0.28.0 branch cut; in v0.28.1rc0 and
 * v0.29.0rc1+): kv_cache_utils.py get_kv_cache_configs checks max_model_len (and auto-fit) against
 * available − one block (check_memory: BlockPool holds the null block back), so a request must fit num_blocks − 1
 * blocks. The printed tokens and concurrency still use all num_blocks.
 */
export function reservesNullBlock(version: string | undefined): boolean {
  return vllmAtLeast(version, 0, 28, 1);
}

/**
 * From 0.21.0 determine_available_memory (vllm/v1/worker/gpu_worker.py) subtracts the profiled CUDA graph memory
 * ("Estimated CUDA graph memory: X GiB total", GPUModelRunner.profile_cudagraph_memory) from the KV budget when
 * graphs will be captured (not --enforce-eager, not ROCm) and VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS is on
 * ("CUDA graph memory profiling is enabled (default since v0.21.0)"). The printed "Available KV cache memory" is
 * already net of it.
 */
export function subtractsCudaGraphEstimate(version: string | undefined, enforceEager?: boolean): boolean {
  return !enforceEager && vllmAtLeast(version, 0, 21);
}

const perBlockMemo = new WeakMap<Layout, number[]>();

/** Bytes per block across the layers one worker holds, i.e. the divisor of get_num_blocks (memoized per stage). */
function bytesPerBlockOf(l: Layout, s: number): number {
  let memo = perBlockMemo.get(l);
  if (!memo) perBlockMemo.set(l, (memo = []));
  return (memo[s] ??= bytesPerBlock(l, l.stages[s]));
}

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
function blocksPerRequest(l: Layout, len: number, inFlight: number): number {
  if (l.mambaOnly) return 1;
  if (l.mode === "uniform-type") return requestBlocks(l.groups[0], len, inFlight);
  let blocks = 0;
  for (const g of l.groups) blocks += requestBlocks(g, len, inFlight);
  return blocks;
}

/**
 * Whether this vLLM release prints "GPU KV cache size" as int(max_concurrency × max_model_len)
 * (kv_cache_utils.py _report_kv_cache_config, from 0.21: hybrid and sliding-window layouts no longer report
 * num_blocks // len(groups) × min block size; vllm-project/vllm#43308 shows the jump between 0.20.0 and 0.21.0, and
 * the 0.25.1 fixture log prints 3,875,400 = 14.78…x × 262,144, not a multiple of 16).
 */
export function reportsConcurrencyTokens(version: string | undefined): boolean {
  return vllmAtLeast(version, 0, 21);
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
 * _report_kv_cache_config: tokens = num_blocks // len(groups) × min_block_size, or from 0.21 int(concurrency ×
 * max_model_len); concurrency = num_blocks / Σ_group cdiv(max_memory_usage, page)).
 */
export function vllmKvFromBudget(model: ModelSpec, dep: Deployment, availablePerStage: number[]): VllmKvResult {
  const l = layoutOf(model, dep);
  const version = dep.options?.vllmVersion;
  const inFlight = vllmInFlightTokens(version, dep.options?.maxNumBatchedTokens ?? vllmDefaultBatchedTokens(model, undefined, version), dep.pp);
  if (l.mode === "none") return { numBlocks: 1, kvCapacityTokens: 0, maxConcurrency: Number.POSITIVE_INFINITY, maxContext: model.maxContext };
  let numBlocks = Number.POSITIVE_INFINITY;
  l.stages.forEach((stage, s) => {
    if (!stage.length) return;
    const per = bytesPerBlockOf(l, s);
    numBlocks = Math.min(numBlocks, Math.max(0, Math.floor(Math.floor(availablePerStage[s] ?? availablePerStage[0]) / per)));
  });
  if (!Number.isFinite(numBlocks)) numBlocks = 0;
  const maxConcurrency = numBlocks / blocksPerRequest(l, dep.context, inFlight);
  const kvCapacityTokens = reportsConcurrencyTokens(version)
    ? Math.trunc(maxConcurrency * dep.context)
    : Math.floor(numBlocks / l.groups.length) * (l.mambaOnly ? dep.context : l.minBlockSize);
  // estimate_max_model_len: largest length whose request fits the blocks (equivalent to the byte test); from
  // 0.28.1 against the usable blocks, num_blocks − 1 (reservesNullBlock).
  const usable = reservesNullBlock(version) ? numBlocks - 1 : numBlocks;
  let maxContext = 0;
  if (blocksPerRequest(l, 1, inFlight) <= usable) {
    let lo = 1;
    let hi = Math.max(1, model.maxContext);
    if (blocksPerRequest(l, hi, inFlight) <= usable) lo = hi;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (blocksPerRequest(l, mid, inFlight) <= usable) lo = mid;
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

const roundUp = (x: number, n: number) => Math.ceil(x / n) * n;

/**
 * MXFP4 experts are allocated padded (vllm/model_executor/layers/quantization/mxfp4.py Mxfp4MoEMethod.create_weights):
 * the Marlin backend rounds the per-rank expert intermediate size up to 128 and hidden up to 256; the Triton
 * backend rounds the intermediate size up to 64. Returns the byte factor per layer (1 for other schemes).
 */
function mxfp4ExpertPadding(model: ModelSpec, dep: Deployment, scheme: string): (layer: number) => number {
  if (scheme.toLowerCase() !== "mxfp4") return () => 1;
  const marlin = dep.options?.mxfp4Backend === "marlin";
  const widths = layerWidths(model);
  return (i) => {
    const inter = widths[i].expert / 2 / dep.tp; // gate + up widths were summed
    if (!inter) return 1;
    const padI = roundUp(inter, marlin ? 128 : 64) / inter;
    const padH = marlin ? roundUp(model.hiddenSize, 256) / model.hiddenSize : 1;
    return padI * padH;
  };
}

/**
 * Weight bytes each pipeline stage's TP rank loads: column/row-parallel layers split by tp, replicated ones
 * whole, K/V projections hold max(1, kv_heads / tp) heads (QKVParallelLinear replicates KV heads when tp >
 * heads), and embedding / lm_head are padded to a multiple of 64 rows (VocabParallelEmbedding pad_vocab_size)
 * then split by tp. Stage 0 holds the embedding, the last stage the lm_head (a tied head is loaded there too).
 */
export function vllmWeightsPerRank(model: ModelSpec, dep: Deployment): number[] {
  let m = weightCache.get(model);
  if (!m) weightCache.set(model, (m = new Map()));
  const key = `${dep.weights}|${dep.tp}|${dep.pp}|${dep.options?.mxfp4Backend ?? ""}`;
  const hit = m.get(key);
  if (hit) return hit;
  const scheme = weightScheme(dep.weights);
  const bytesOf = scheme.bytesFor(model);
  const tp = dep.tp;
  const vPad = Math.ceil(model.vocabSize / VLLM_VOCAB_PADDING) * VLLM_VOCAB_PADDING;
  const stages = ppStageLayers(model.layers.length, dep.pp);
  const out: number[] = [];
  const embed = model.globals.find((t) => t.role === "embedding");
  const head = model.globals.find((t) => t.role === "lm_head") ?? embed;
  const vocabBytes = (t: TensorSpec | undefined) => (t ? (bytesOf(t, -1) * vPad) / model.vocabSize / tp : 0);
  const expertPad = mxfp4ExpertPadding(model, dep, scheme.name);
  for (let s = 0; s < stages.length; s++) {
    let b = 0;
    for (const i of stages[s]) {
      const l = model.layers[i];
      const c = l.cache;
      const kvHeads = "nKvHeads" in c ? c.nKvHeads : 0;
      for (const t of l.tensors) {
        let bytes = bytesOf(t, l.index);
        if (t.role === "expert") bytes *= expertPad(l.index);
        if (replicated(t)) b += bytes;
        else if (kvHeads && /attn_[kv](\.|$)/.test(t.name)) b += (bytes * Math.max(1, Math.floor(kvHeads / tp))) / kvHeads;
        else b += bytes / tp;
      }
    }
    if (s === 0) b += vocabBytes(embed) + (model.vision ? (model.vision.params * 2) / tp : 0);
    if (s === stages.length - 1 && (head !== embed || stages.length > 1)) b += vocabBytes(head);
    for (const t of model.globals) if (t.role === "norm" && s === stages.length - 1) b += bytesOf(t, -1);
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
  // PyTorch path apply_top_k_top_p (the dummy run sets top_k = V − 1, top_p = 0.9): model-dtype logits, the fp32
  // copy, then torch.sort on CUDA (aten Sort.cu segmented radix sort): an int64 iota of the indices, the sorted
  // values (fp32) and indices (int64) and the radix sort's alternate key/value buffers (fp32 + int64).
  native: 2 + 4 + 8 + (4 + 8) + (4 + 8),
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
  const T = o.maxNumBatchedTokens ?? vllmDefaultBatchedTokens(model, undefined, o.vllmVersion);
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
  // Default: the PyTorch path (vLLM without FlashInfer installed); it matches the H100 `vllm serve` figures of
  // llm-d-benchmark and LMCache (38–39 B per dummy-request × vocab entry) and is the larger, safer estimate.
  const sampler = o.sampler ?? "native";
  // Under TP the lm_head shards are all-gathered (layers/logits_processor.py _gather_logits); the shard is freed
  // before the sampler, so only the full-vocabulary logits count.
  const sample = lastStage ? T * model.hiddenSize * a + R * vPad * SAMPLER_BYTES[sampler] : 0;
  const bytes = Math.max(forward, sample);
  return {
    bytes,
    basis: `estimate: profile_run peak with max_num_batched_tokens ${T}, ${R} dummy requests: forward ${(forward / GIB).toFixed(3)} GiB, sampler warm-up (${sampler}) ${(sample / GIB).toFixed(3)} GiB`,
  };
}

/**
 * Non-torch memory that appears between the worker's first snapshot and the end of the profile run (utils
 * memory_profiling: non_torch_increase): CUDA modules loaded lazily by the first kernels (many more with
 * torch.compile than in eager mode) and, with peers, NCCL communicators (pynccl + the torch device group) — in
 * 0.10 gpu_worker.py init_device takes the snapshot before init_worker_distributed_environment, so they count;
 * later versions snapshot after it ("Initialize the distributed environment BEFORE taking memory snapshot").
 * Estimate: the sizes are the residuals of the Qwen2-7B logs (A100 80GB, TP1 and TP2 at utilization 0.25 and
 * 0.5: 0.55 and 0.67 GiB beyond weights, minus the sampler warm-up) and of the T4 eager log; vLLM measures this,
 * it has no formula.
 */
export function vllmNonTorch(dep: Deployment): Estimate {
  const world = dep.tp * dep.pp;
  const base = (dep.options?.enforceEager ? 0.05 : 0.17) * GIB;
  const nccl = world > 1 ? 0.12 * GIB : 0;
  return {
    bytes: base + nccl,
    basis: `estimate: non-torch increase ${((base + nccl) / GIB).toFixed(2)} GiB (CUDA modules${dep.options?.enforceEager ? ", eager" : ", compiled"}${world > 1 ? ", NCCL communicators" : ""})`,
  };
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
 * From 0.21 the CUDA graph estimate is subtracted too (subtractsCudaGraphEstimate). vLLM measures it by capturing
 * graphs into a dummy KV cache; hwledger has no model of it, so it is an input (`cudaGraphBytes`, the logged
 * "Estimated CUDA graph memory"); absent, nothing is subtracted and the basis says so.
 */
export function vllmStartup(model: ModelSpec, dep0: Deployment, gpuMemoryBytes: number, utilization: number, weightsOverride?: number, cudaGraphBytes?: number): StartupAccounting {
  const dep = effectiveOptions(model, dep0, gpuMemoryBytes);
  const l = layoutOf(model, dep);
  const weights = weightsOverride !== undefined ? l.stages.map(() => weightsOverride) : vllmWeightsPerRank(model, dep);
  const nt = vllmNonTorch(dep);
  const stages = ppStageLayers(model.layers.length, dep.pp);
  const memo = memoOf(model);
  const o = dep.options;
  const peaks = stages.map((s, i) => {
    const key = `${dep.tp}|${dep.pp}|${o?.maxNumBatchedTokens ?? ""}|${o?.maxNumSeqs ?? ""}|${o?.sampler ?? ""}|stage${i}`;
    let e = memo.peak.get(key);
    if (!e) memo.peak.set(key, (e = vllmProfilePeak(model, dep, s, i === stages.length - 1)));
    return e;
  });
  const requested = gpuMemoryBytes * utilization;
  const graphs = subtractsCudaGraphEstimate(o?.vllmVersion, o?.enforceEager);
  const graphBytes = graphs ? (cudaGraphBytes ?? 0) : 0;
  const available = stages.map((_, i) => Math.floor(requested - weights[i] - peaks[i].bytes - nt.bytes - graphBytes));
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
      ...(graphs
        ? [cudaGraphBytes !== undefined
          ? `vLLM ${o!.vllmVersion}: minus the CUDA graph estimate ${(cudaGraphBytes / GIB).toFixed(2)} GiB (gpu_worker.py, default since 0.21)`
          : `vLLM ${o!.vllmVersion}: also subtracts its measured CUDA graph estimate (default since 0.21; public logs show 0.1–0.6 GiB), not modelled here`]
        : []),
    ],
  };
}

function effectiveOptions(model: ModelSpec, dep: Deployment, gpuMemoryBytes?: number): Deployment {
  const d = vllmSchedulerDefaults(gpuMemoryBytes, undefined, dep.options?.vllmVersion);
  const o = dep.options ?? {};
  const mnbt = o.maxNumBatchedTokens ?? vllmDefaultBatchedTokens(model, gpuMemoryBytes, o.vllmVersion);
  return { ...dep, options: { ...o, maxNumBatchedTokens: mnbt, maxNumSeqs: o.maxNumSeqs ?? d.maxNumSeqs } };
}

function fitVllm(model: ModelSpec, dep0: Deployment, budget: FitBudget): FitResult {
  // vllm/config ModelConfig.verify_with_parallel_config: attention heads must split evenly over TP ranks.
  if (model.nHeads % dep0.tp !== 0) throw new InputError(`vLLM needs the ${model.nHeads} attention heads divisible by --tp ${dep0.tp}`);
  const dep = effectiveOptions(model, dep0, budget.gpuMemoryBytes);
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

/** Per-model memo for the plan() hot path (sliders re-plan the catalog every frame). */
interface PlanMemo {
  peak: Map<string, Estimate>;
  /** Last activation estimate and the (identical) options object it was computed for. */
  lastPeak?: { tp: number; pp: number; o: Deployment["options"]; e: Estimate };
  adjust: Map<string, Estimate>;
  kvHeads: number;
}
const planMemo = new WeakMap<ModelSpec, PlanMemo>();
function memoOf(model: ModelSpec): PlanMemo {
  let m = planMemo.get(model);
  if (!m) {
    const kv = model.layers.find((l) => "nKvHeads" in l.cache)?.cache;
    m = { peak: new Map(), adjust: new Map(), kvHeads: kv && "nKvHeads" in kv ? kv.nKvHeads : 0 };
    planMemo.set(model, m);
  }
  return m;
}

/** Bytes of all layers of a group per block (Σ pages), precomputed once per layout. */
const groupPages = new WeakMap<Layout, { pageSum: number[]; perTokenFull: number; basis: string[] }>();
function pagesOf(l: Layout) {
  let g = groupPages.get(l);
  if (!g) {
    const basis = [`vLLM: ${l.groups.length} KV cache group(s) of ${l.minBlockSize}-token blocks (kv_cache_interface.py page_size_bytes, max_memory_usage_bytes)`];
    const pageSum = l.groups.map((gr) => (l.mode === "uniform-type" ? gr.layers.reduce((a, i) => a + l.pageOf.get(i)!, 0) : gr.page * gr.layers.length));
    let perTokenFull = 0;
    l.groups.forEach((gr, k) => {
      if (gr.kind === "full" || gr.kind === "mla") perTokenFull += pageSum[k] / gr.blockSize;
    });
    g = { pageSum, perTokenFull, basis };
    groupPages.set(l, g);
  }
  return g;
}

const DEFAULT_MNBT = vllmSchedulerDefaults().maxNumBatchedTokens;
const NON_TORCH: Estimate[] = [];

export const vllmProfile: EngineProfile = {
  id: "vllm",
  label: "vLLM",
  cache(model, dep): CacheResult {
    const l = layoutOf(model, dep);
    const o = dep.options;
    // vllmDefaultBatchedTokens without a GPU size, kept allocation-free for the plan hot path.
    const batched = o?.maxNumBatchedTokens ?? Math.max(DEFAULT_MNBT, model.vision?.prefixLmItemTokens ?? 0);
    const mnbt = o?.vllmVersion ? vllmInFlightTokens(o.vllmVersion, batched, dep.pp) : batched;
    const { pageSum, perTokenFull, basis } = pagesOf(l);
    // What the requests of this deployment occupy: blocks per request × the group's pages, on each TP rank.
    let total = 0;
    for (let k = 0; k < l.groups.length; k++) total += requestBlocks(l.groups[k], dep.context, mnbt) * pageSum[k];
    total *= dep.seqs * dep.tp;
    const n = model.layers.length;
    return {
      get perLayer() {
        const out = new Array<number>(n).fill(0);
        for (const g of l.groups) {
          const blocks = requestBlocks(g, dep.context, mnbt) * dep.seqs * dep.tp;
          for (const i of g.layers) out[i] = blocks * (l.mode === "uniform-type" ? l.pageOf.get(i)! : g.page);
        }
        return out;
      },
      total,
      bytesPerToken: perTokenFull * dep.tp,
      basis,
    };
  },
  activations(model, dep) {
    const m = memoOf(model);
    const o = dep.options;
    if (m.lastPeak && m.lastPeak.tp === dep.tp && m.lastPeak.pp === dep.pp && m.lastPeak.o === o) return m.lastPeak.e;
    const key = `${dep.tp}|${dep.pp}|${o?.maxNumBatchedTokens ?? ""}|${o?.maxNumSeqs ?? ""}|${o?.sampler ?? ""}`;
    let e = m.peak.get(key);
    if (!e) {
      const stages = ppStageLayers(model.layers.length, dep.pp);
      e = vllmProfilePeak(model, effectiveOptions(model, dep), stages[stages.length - 1], true);
      m.peak.set(key, e);
    }
    m.lastPeak = { tp: dep.tp, pp: dep.pp, o, e };
    return e;
  },
  overhead(_model, dep) {
    const k = (dep.tp * dep.pp > 1 ? 1 : 0) + (dep.options?.enforceEager ? 2 : 0);
    return (NON_TORCH[k] ??= vllmNonTorch(dep));
  },
  weightAdjustment(model, dep) {
    const m = memoOf(model);
    let e = m.adjust.get(dep.weights);
    if (!e) {
      // VocabParallelEmbedding / ParallelLMHead pad the vocabulary to a multiple of 64 rows.
      const vPad = Math.ceil(model.vocabSize / VLLM_VOCAB_PADDING) * VLLM_VOCAB_PADDING;
      const bytesOf = weightScheme(dep.weights).bytesFor(model);
      let extra = 0;
      for (const t of model.globals) {
        if (t.role === "embedding" || t.role === "lm_head") extra += (bytesOf(t, -1) * (vPad - model.vocabSize)) / model.vocabSize;
      }
      e = vPad === model.vocabSize
        ? { bytes: 0, basis: "vLLM: vocabulary already a multiple of 64" }
        : { bytes: Math.round(extra), basis: `vLLM pads the vocabulary ${model.vocabSize} → ${vPad} rows (pad_vocab_size)` };
      m.adjust.set(dep.weights, e);
    }
    return e;
  },
  warnings(model, dep) {
    const h = memoOf(model).kvHeads;
    return h && dep.tp > h ? [`vLLM replicates KV heads: tp ${dep.tp} > ${h} KV heads, each rank caches one head`] : [];
  },
  fit: fitVllm,
};
