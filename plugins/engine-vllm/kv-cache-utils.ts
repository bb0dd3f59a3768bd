// vllm/v1/core/kv_cache_utils.py: how vLLM groups the layers' KV cache specs (get_kv_cache_groups), how many blocks
// a worker's budget holds (get_num_blocks, get_kv_cache_configs) and what its start-up log prints
// (_report_kv_cache_config: "GPU KV cache size", "Maximum concurrency"). Everything here is compiled once per model
// and deployment shape into a Layout; the figures for a budget are then arithmetic.
import { InputError } from "../../lib/calc/index.js";
import type { Deployment, DeploymentShape, ModelSpec } from "../../lib/calc/index.js";
import { VLLM_DEFAULT_BLOCK_SIZE, vllmDefaultBatchedTokens } from "./arg-utils.js";
import { kvElemBytes, layerKvs, requestBlocks } from "./kv-cache-interface.js";
import type { LayerKv, VllmSpecKind } from "./kv-cache-interface.js";
import { ppStageLayers, stageOfLayer } from "./pp-stages.js";
import { reportsConcurrencyTokens, reservesNullBlock, vllmInFlightTokens } from "./releases.js";

const cdiv = (a: number, b: number) => Math.ceil(a / b);

export interface Group {
  kind: VllmSpecKind;
  window: number;
  blockSize: number;
  /** Page (one block of one layer) in bytes; uniform across groups except in the uniform-type case. */
  page: number;
  layers: number[];
}

/** How vLLM lays the KV cache out for a model and deployment shape (rank-level, per worker). */
export interface Layout {
  mode: "uniform" | "uniform-type" | "hybrid" | "none";
  groups: Group[];
  /** For uniform-type: page per layer index. */
  pageOf: Map<number, number>;
  minBlockSize: number;
  /** Mamba-only models: one block holds a whole sequence (block_size = max_model_len). */
  mambaOnly: boolean;
  /** Cached layer indices per pipeline stage (get_pp_indices). */
  stages: number[][];
  /** Bytes per block across the layers each stage's worker holds: the divisor of get_num_blocks. */
  stageBytesPerBlock: number[];
  /** Bytes of all layers of each group per block (Σ pages). */
  pageSum: number[];
  /** Bytes one token of one sequence adds on one rank in the full/MLA groups. */
  perTokenFull: number;
  notes: string[];
}

const keyOf = (k: LayerKv) => `${k.kind}:${k.tokenBytes}:${k.window}:${k.stateBytes}`;

function maxOf(xs: Iterable<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/**
 * get_kv_cache_groups: one group when every layer has the same spec (_get_kv_cache_groups_uniform_spec) or the same
 * type with different sizes (UniformTypeKVCacheSpecs); otherwise unify page sizes (unify_kv_cache_spec_page_size) and
 * split each type into groups of group_size layers (_get_kv_cache_groups_uniform_page_size).
 */
function groupsOf(model: ModelSpec, kvs: LayerKv[], bs: number, notes: string[]): Pick<Layout, "mode" | "groups" | "pageOf" | "mambaOnly"> {
  const none = { pageOf: new Map<number, number>(), mambaOnly: false };
  if (kvs.length === 0) return { ...none, mode: "none", groups: [] };
  const attn = kvs.filter((k) => k.kind !== "mamba");
  const mamba = kvs.filter((k) => k.kind === "mamba");
  const keys = new Set(kvs.map(keyOf));
  if (mamba.length && !attn.length) {
    // Attention-free: MambaModelConfig.verify_and_update_config sets the block size to max_model_len, one block per sequence.
    if (keys.size > 1) notes.push("vLLM: Mamba layers with different state sizes are planned with the largest state");
    const page = Math.max(mamba[0].stateBytes, maxOf(mamba.map((m) => m.stateBytes)));
    // The block is max_model_len tokens long; kvFromBudget applies it (the layout is shared across contexts).
    return { ...none, mode: "uniform", mambaOnly: true, groups: [{ kind: "mamba", window: 0, blockSize: bs, page, layers: mamba.map((m) => m.layer) }] };
  }
  if (keys.size === 1) {
    const k = kvs[0];
    return { ...none, mode: "uniform", groups: [{ kind: k.kind, window: k.window, blockSize: bs, page: bs * k.tokenBytes, layers: kvs.map((x) => x.layer) }] };
  }
  const kinds = new Set(kvs.map((k) => `${k.kind}:${k.window}`));
  if (kinds.size === 1) {
    // UniformTypeKVCacheSpecs: same kind and window, different per-layer sizes: one group, per-layer pages.
    const pageOf = new Map(kvs.map((k) => [k.layer, bs * k.tokenBytes] as [number, number]));
    return { ...none, mode: "uniform-type", pageOf, groups: [{ kind: kvs[0].kind, window: kvs[0].window, blockSize: bs, page: 0, layers: kvs.map((x) => x.layer) }] };
  }
  // Hybrid. With Mamba layers, vllm/model_executor/models/config.py HybridAttentionMambaModelConfig raises the
  // attention block size to a multiple of 16 whose page covers the Mamba state, then pads the Mamba page to it.
  let attnBs = bs;
  const pages = new Map<LayerKv, { page: number; blockSize: number }>();
  if (mamba.length) {
    const mambaPage = maxOf(mamba.map((m) => m.stateBytes));
    const perTok = maxOf(attn.map((a) => a.tokenBytes));
    attnBs = Math.max(bs, 16 * cdiv(mambaPage, 16 * perTok));
    for (const m of mamba) pages.set(m, { page: attnBs * perTok, blockSize: attnBs });
  }
  for (const a of attn) pages.set(a, { page: attnBs * a.tokenBytes, blockSize: attnBs });
  // unify_kv_cache_spec_page_size: smaller pages grow their block size by max_page / page (must divide).
  const maxPage = maxOf([...pages.values()].map((p) => p.page));
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
  const min = -maxOf(counts.map((c) => -c));
  const max = maxOf(counts);
  const groupSize = max < min * 1.5 ? max : min;
  const groups: Group[] = [];
  for (const layers of byType.values()) {
    const n = cdiv(layers.length, groupSize);
    if (layers.length % groupSize) notes.push(`vLLM pads ${groupSize - (layers.length % groupSize)} ${layers[0].kind} layer(s) to fill its KV cache groups`);
    // layers[i::num_groups] to the i-th group, so pipeline stages stay balanced.
    const members: LayerKv[][] = Array.from({ length: n }, () => []);
    layers.forEach((m, j) => members[j % n].push(m));
    for (const ms of members) {
      const p = pages.get(ms[0])!;
      groups.push({ kind: ms[0].kind, window: ms[0].window, blockSize: p.blockSize, page: p.page, layers: ms.map((m) => m.layer) });
    }
  }
  return { ...none, mode: "hybrid", groups };
}

export function compileLayout(model: ModelSpec, dep: DeploymentShape): Layout {
  const e = kvElemBytes(dep);
  const bs = dep.options?.blockSize ?? VLLM_DEFAULT_BLOCK_SIZE;
  if (!Number.isInteger(bs) || bs <= 0) throw new InputError(`--block-size must be a positive integer, got ${bs}`);
  const kvs = layerKvs(model, dep, e);
  const cached = new Set(kvs.map((k) => k.layer));
  const pp = ppStageLayers(model.layers.length, dep.pp);
  const stages = pp.map((s) => s.filter((i) => cached.has(i)));
  const notes: string[] = [];
  const g = groupsOf(model, kvs, bs, notes);
  const minBlockSize = g.mode === "hybrid" ? -maxOf(g.groups.map((x) => -x.blockSize)) : bs;
  // get_num_blocks divisor per worker. Uniform-type: Σ per-layer pages; otherwise page × group_size, where group_size
  // is the most layers one group has on this worker.
  const stageOf = stageOfLayer(pp, model.layers.length);
  const stageBytesPerBlock = stages.map(() => 0);
  if (g.mode === "uniform-type") {
    stages.forEach((s, k) => {
      for (const i of s) stageBytesPerBlock[k] += g.pageOf.get(i) ?? 0;
    });
  } else if (g.groups.length) {
    const most = stages.map(() => 0);
    for (const grp of g.groups) {
      const n = stages.map(() => 0);
      for (const i of grp.layers) n[stageOf[i]]++;
      n.forEach((c, k) => (most[k] = Math.max(most[k], c)));
    }
    most.forEach((c, k) => (stageBytesPerBlock[k] = g.groups[0].page * c));
  }
  const pageSum = g.groups.map((gr) => (g.mode === "uniform-type" ? gr.layers.reduce((a, i) => a + g.pageOf.get(i)!, 0) : gr.page * gr.layers.length));
  let perTokenFull = 0;
  g.groups.forEach((gr, k) => {
    if (gr.kind === "full" || gr.kind === "mla") perTokenFull += pageSum[k] / gr.blockSize;
  });
  return { ...g, minBlockSize, stages, stageBytesPerBlock, pageSum, perTokenFull, notes };
}

/** Blocks one request of `len` tokens needs (get_max_concurrency_for_kv_cache_config denominator). */
export function blocksPerRequest(l: Layout, len: number, inFlight: number): number {
  if (l.mambaOnly) return 1;
  if (l.mode === "uniform-type") return requestBlocks(l.groups[0], len, inFlight);
  let blocks = 0;
  for (const g of l.groups) blocks += requestBlocks(g, len, inFlight);
  return blocks;
}

/** The tokens a recycling-aware group reserves per request beyond its window, for this deployment. */
export function inFlightTokens(model: ModelSpec, dep: DeploymentShape): number {
  const version = dep.options?.vllmVersion;
  return vllmInFlightTokens(version, dep.options?.maxNumBatchedTokens ?? vllmDefaultBatchedTokens(model, dep), dep.pp);
}

export interface VllmKvResult {
  numBlocks: number;
  kvCapacityTokens: number;
  maxConcurrency: number;
  maxContext: number;
}

/**
 * From per-worker KV budgets to vLLM's printed figures (get_kv_cache_configs: num_blocks per worker = available //
 * page // group_size (get_num_blocks), then the minimum over workers; _report_kv_cache_config: tokens = num_blocks //
 * len(groups) × min_block_size, or from 0.21 int(concurrency × max_model_len); concurrency = num_blocks /
 * Σ_group cdiv(max_memory_usage, page)).
 */
export function kvFromBudget(l: Layout, model: ModelSpec, dep: Deployment, availablePerStage: number[]): VllmKvResult {
  const version = dep.options?.vllmVersion;
  const inFlight = inFlightTokens(model, dep);
  if (l.mode === "none") return { numBlocks: 1, kvCapacityTokens: 0, maxConcurrency: Number.POSITIVE_INFINITY, maxContext: model.maxContext };
  let numBlocks = Number.POSITIVE_INFINITY;
  l.stages.forEach((stage, s) => {
    if (!stage.length) return;
    numBlocks = Math.min(numBlocks, Math.max(0, Math.floor(Math.floor(availablePerStage[s] ?? availablePerStage[0]) / l.stageBytesPerBlock[s])));
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

/** vLLM's figures for per-stage KV budgets (one-off: compiles the layout). */
export function vllmKvFromBudget(model: ModelSpec, dep: Deployment, availablePerStage: number[]): VllmKvResult {
  return kvFromBudget(compileLayout(model, dep), model, dep, availablePerStage);
}
