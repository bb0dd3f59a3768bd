// A model's per-layer cache facts compiled into flat arrays, with layers of identical facts grouped, so an engine's
// evaluation over contexts and sequences is arithmetic over a few groups. Built once per (model, MLA mode) by the
// engine that compiles a plan; nothing here is memoized.
import type { ModelSpec } from "../types.js";
import { kvElemsPerToken, stateElems, tokensKept } from "./index.js";
import { CACHE_CODE } from "./kinds.js";
import type { MlaMode } from "./kinds.js";

export interface CacheTable {
  /** CACHE_CODE of each layer. */
  kind: Uint8Array;
  /** K + V elements one token adds (for the given MLA mode). */
  elems: Float64Array;
  /** Tokens kept at most regardless of context: sliding window + sinks, chunk, encoder tokens (0 = grows with context). */
  span: Float64Array;
  convElems: Float64Array;
  stateElems: Float64Array;
  /** Largest K + V elements per token among full/MLA layers, and one such layer's index (-1 if none). */
  maxFullElems: number;
  maxFullIndex: number;
  /** One layer per group whose kept tokens are bounded (sliding, chunked, cross); weigh each by groupCount[groupOf[i]]. */
  bounded: Int32Array;
  /** Layers with identical facts: groupFirst[g] stands for all groupCount[g] layers of group g; groupOf[i] is layer i's. */
  groupFirst: Int32Array;
  groupCount: Int32Array;
  groupOf: Int32Array;
}

/** The span a bounded kind keeps whatever the context: its tokensKept at an unbounded context. */
const UNBOUNDED = Number.POSITIVE_INFINITY;

export function compileCacheTable(model: ModelSpec, mla: MlaMode): CacheTable {
  const n = model.layers.length;
  const kind = new Uint8Array(n);
  const elems = new Float64Array(n);
  const span = new Float64Array(n);
  const conv = new Float64Array(n);
  const state = new Float64Array(n);
  const groupOf = new Int32Array(n);
  let maxFullElems = 0;
  let maxFullIndex = -1;
  const key = new Map<string, number>();
  const first: number[] = [];
  const count: number[] = [];
  const bounded: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = model.layers[i].cache;
    const code = CACHE_CODE[c.kind];
    kind[i] = code;
    if (c.kind === "recurrent") {
      const s = stateElems(c);
      conv[i] = s.conv;
      state[i] = s.state;
    } else if (c.kind !== "none") {
      const e = kvElemsPerToken(c, mla);
      elems[i] = e.k + e.v;
      if (c.kind === "full" || c.kind === "mla") {
        if (elems[i] > maxFullElems) {
          maxFullElems = elems[i];
          maxFullIndex = i;
        }
      } else span[i] = tokensKept(c, UNBOUNDED);
    }
    const k = `${code}|${elems[i]}|${span[i]}|${conv[i]}|${state[i]}`;
    let g = key.get(k);
    if (g === undefined) {
      key.set(k, (g = first.length));
      first.push(i);
      count.push(0);
      if (code === CACHE_CODE.sliding || code === CACHE_CODE.chunked || code === CACHE_CODE.cross) bounded.push(i);
    }
    count[g]++;
    groupOf[i] = g;
  }
  return {
    kind, elems, span, convElems: conv, stateElems: state, maxFullElems, maxFullIndex,
    bounded: Int32Array.from(bounded), groupFirst: Int32Array.from(first), groupCount: Int32Array.from(count), groupOf,
  };
}

/** Per-layer rows from per-group bytes. */
export function expandGroups(t: CacheTable, groupBytes: Float64Array): number[] {
  return Array.from(t.groupOf, (g) => groupBytes[g]);
}
