// A model under one deployment shape, read once for the speed model: per-layer weight bytes, parameters, cache bytes
// and attention spans as prefix sums, so any contiguous range of layers (a segment on one device) is summed by
// arithmetic. compileSpeed() is linear in the layers; every question below is O(groups), not O(layers).
import { attentionFlops, kvElemsPerToken, stateElems } from "../cache/index.js";
import type { DeploymentShape } from "../engine.js";
import { kvBytes } from "../kvdtype.js";
import { tensorElements } from "../quant.js";
import type { CacheSpec, ModelSpec } from "../types.js";
import { weightScheme } from "../weights.js";

const HUGE = 2 ** 40;

/** Layers that share one cache spec: how attention and the cache cost per layer. */
export interface AttentionGroup {
  /** Layers of this group before layer i (length layers + 1). */
  count: Int32Array;
  /** Query heads attending. */
  heads: number;
  /** K and V bytes one cached token adds to one layer (0 for recurrent and cache-less layers). */
  tokenBytes: number;
  /** Query heads per KV head: without flash attention each query head reads the cache on its own. */
  queryHeadsPerKv: number;
  /** Tokens a layer attends to at most (window, chunk); Infinity for full attention. */
  span: number;
  /** Recurrent state bytes one sequence reads per step. */
  stateBytes: number;
}

/** Routed experts of MoE layers with one (experts, active) shape. */
export interface ExpertGroup {
  experts: number;
  active: number;
  /** Prefix sums over layers (length layers + 1). */
  bytes: Float64Array;
  params: Float64Array;
}

export interface SpeedShapeTable {
  shape: DeploymentShape;
  nLayers: number;
  /** Prefix sums over layers of the weights every step reads (all but routed experts), and of their parameters. */
  denseBytes: Float64Array;
  denseParams: Float64Array;
  experts: ExpertGroup[];
  attention: AttentionGroup[];
  /** Globals but the embedding table (output head, final norm; the whole table when embeddings are tied). */
  outputBytes: number;
  /** One embedding row: a step reads one row per sequence, not the table. */
  embeddingRowBytes: number;
}

/** Tokens one query attends to at a context of `ctx` tokens, as the cache kind counts them (window, chunk). */
function attendedOf(c: CacheSpec): number {
  const one = attentionFlops(c, 1, 1);
  if (!(one > 0)) return 0;
  const far = attentionFlops(c, 1, HUGE) / one;
  return far >= HUGE ? Infinity : far;
}

export function compileShapeTable(model: ModelSpec, shape: DeploymentShape): SpeedShapeTable {
  const bytesOf = weightScheme(shape.weights).bytesFor(model);
  const n = model.layers.length;
  const denseBytes = new Float64Array(n + 1);
  const denseParams = new Float64Array(n + 1);
  const expertIndex = new Map<string, ExpertGroup>();
  const attentionIndex = new Map<string, AttentionGroup>();
  const expertRows: Array<{ g: ExpertGroup; layer: number; bytes: number; params: number }> = [];
  model.layers.forEach((l, i) => {
    let db = 0;
    let dp = 0;
    let eb = 0;
    let ep = 0;
    for (const t of l.tensors) {
      const b = bytesOf(t, l.index);
      const p = tensorElements(t);
      if (t.role === "expert" && l.moe) {
        eb += b;
        ep += p;
      } else {
        db += b;
        dp += p;
      }
    }
    denseBytes[i + 1] = denseBytes[i] + db;
    denseParams[i + 1] = denseParams[i] + dp;
    if (l.moe && eb > 0) {
      const key = `${l.moe.experts}|${l.moe.activeExperts}`;
      let g = expertIndex.get(key);
      if (!g) expertIndex.set(key, (g = { experts: l.moe.experts, active: l.moe.activeExperts, bytes: new Float64Array(n + 1), params: new Float64Array(n + 1) }));
      expertRows.push({ g, layer: i, bytes: eb, params: ep });
    }
    const akey = JSON.stringify(l.cache);
    let a = attentionIndex.get(akey);
    if (!a) {
      // Per-token cache bytes from the cache kind (MLA as its latent), in the deployment's cache types.
      const kv = kvElemsPerToken(l.cache, "latent");
      const st = stateElems(l.cache);
      const kvHeads = "nKvHeads" in l.cache ? l.cache.nKvHeads : 0;
      attentionIndex.set(
        akey,
        (a = {
          count: new Int32Array(n + 1),
          heads: model.nHeads,
          tokenBytes: kvBytes(shape.kvDtypeK, kv.k) + kvBytes(shape.kvDtypeV, kv.v),
          queryHeadsPerKv: kvHeads > 0 ? model.nHeads / kvHeads : 1,
          span: attendedOf(l.cache),
          stateBytes: (st.conv + st.state) * 4,
        }),
      );
    }
    a.count[i + 1] = 1;
  });
  for (const g of expertIndex.values()) {
    for (const r of expertRows) if (r.g === g) (g.bytes[r.layer + 1] = r.bytes), (g.params[r.layer + 1] = r.params);
    for (let i = 0; i < n; i++) (g.bytes[i + 1] += g.bytes[i]), (g.params[i + 1] += g.params[i]);
  }
  for (const a of attentionIndex.values()) for (let i = 0; i < n; i++) a.count[i + 1] += a.count[i];

  let outputBytes = 0;
  let embeddingRowBytes = 0;
  for (const t of model.globals) {
    const b = bytesOf(t, -1);
    if (t.role === "embedding") {
      embeddingRowBytes = b / (t.shape[1] ?? 1);
      // Tied embeddings: the output head multiplies by the whole table every step.
      if (model.tiedEmbeddings) outputBytes += b;
    } else outputBytes += b;
  }
  return { shape, nLayers: n, denseBytes, denseParams, experts: [...expertIndex.values()], attention: [...attentionIndex.values()], outputBytes, embeddingRowBytes };
}

/** Layers [from, to) of a table, and whether the output head and the embedding rows are read there. */
export interface LayerRange {
  from: number;
  to: number;
  output: boolean;
}

/** Fraction of an MoE layer's routed experts a batch of `tokens` touches: 1 − (1 − k/E)^tokens (independent routing). */
export const touchedExperts = (g: ExpertGroup, tokens: number) => 1 - Math.pow(1 - g.active / g.experts, tokens);

/** Weight bytes a step of `tokens` tokens (`seqs` sequences) reads in a range, and the parameters behind them. */
export function weightsRead(t: SpeedShapeTable, r: LayerRange, tokens: number, seqs: number): { bytes: number; params: number } {
  let bytes = t.denseBytes[r.to] - t.denseBytes[r.from];
  let params = t.denseParams[r.to] - t.denseParams[r.from];
  for (const g of t.experts) {
    const f = touchedExperts(g, tokens);
    bytes += (g.bytes[r.to] - g.bytes[r.from]) * f;
    params += (g.params[r.to] - g.params[r.from]) * f;
  }
  if (r.output) bytes += t.outputBytes + t.embeddingRowBytes * seqs;
  return { bytes, params };
}

/** Parameters one token multiplies by in a range (routed experts at top-k / experts), without the output head. */
export function activeParams(t: SpeedShapeTable, r: LayerRange): number {
  let p = t.denseParams[r.to] - t.denseParams[r.from];
  for (const g of t.experts) p += ((g.params[r.to] - g.params[r.from]) * g.active) / g.experts;
  return p;
}

/**
 * Attention of one decode step at `ctx` cached tokens, per sequence, in a range: cache bytes (K/V of the attended
 * tokens, or per query head when `perQueryHead`; recurrent state) and scores (attended tokens × query heads).
 */
export function decodeAttention(t: SpeedShapeTable, r: LayerRange, ctx: number, perQueryHead: boolean): { bytes: number; scores: number } {
  let bytes = 0;
  let scores = 0;
  for (const a of t.attention) {
    const layers = a.count[r.to] - a.count[r.from];
    if (!layers) continue;
    const attended = Math.min(ctx, a.span);
    bytes += layers * (a.tokenBytes * attended * (perQueryHead ? a.queryHeadsPerKv : 1) + a.stateBytes);
    scores += layers * a.heads * (a.tokenBytes > 0 ? attended : 0);
  }
  return { bytes, scores };
}

/** Σ over prompt tokens j = 1..n of min(depth + j, span): tokens each prompt token attends to (causal, windowed). */
function attendedSum(n: number, depth: number, span: number): number {
  if (depth >= span) return n * span;
  const free = Math.min(n, span - depth);
  return free * depth + (free * free) / 2 + (free < n ? (n - free) * span : 0);
}

/** Attention scores of a prompt of `n` tokens after `depth` cached ones, in a range (per sequence). */
export function promptScores(t: SpeedShapeTable, r: LayerRange, n: number, depth: number): number {
  let scores = 0;
  for (const a of t.attention) {
    const layers = a.count[r.to] - a.count[r.from];
    if (layers && a.tokenBytes > 0) scores += layers * a.heads * attendedSum(n, depth, a.span);
  }
  return scores;
}
