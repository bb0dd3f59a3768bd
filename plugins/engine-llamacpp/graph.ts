// The reserve graph llama.cpp builds (llama-context.cpp graph_reserve: n_tokens = n_ubatch, n_outputs = n_tokens) as
// a symbolic op list for ggml-alloc (alloc.ts): only the tensors the compute buffer holds (activations and inputs),
// in the order ggml_build_forward_expand visits them, views included (they are graph nodes).
import type { GTensor } from "./alloc.js";

export interface GraphShape {
  /** n_tokens of the reserve ubatch and n_outputs. */
  t: number;
  nEmbd: number;
  nVocab: number;
  nHead: number;
  fa: boolean;
  /** Layers, each with its attention widths, cells it attends (n_kv of its cache per stream × streams) and n_ff. */
  layers: LayerShape[];
  /** KQ mask cells per cache kind (base, SWA) and streams: mask [n_kv, n_tokens / n_stream, 1, n_stream]. */
  maskCells: { base: number; swa: number };
  /** Architecture extras (src/models/*.cpp). */
  arch: "llama" | "gemma2";
}

export interface LayerShape {
  qWidth: number; // n_head × n_embd_head_k
  kWidth: number; // n_embd_k_gqa
  vWidth: number; // n_embd_v_gqa
  headV: number;
  swa: boolean;
  nFf: number;
}

/** A recorder of graph nodes in build order (ggml_build_forward_expand: sources before their consumer). */
class Builder {
  readonly nodes: GTensor[] = [];
  op(bytes: number, srcs: GTensor[], inplace = false): GTensor {
    const t: GTensor = { bytes, srcs, inplace };
    this.nodes.push(t);
    return t;
  }
  /** A view (reshape, permute, view_Nd, transpose): no memory, its source's lifetime extended. */
  view(src: GTensor): GTensor {
    const t: GTensor = { bytes: src.bytes, srcs: [src], viewOf: src.viewOf ?? src };
    this.nodes.push(t);
    return t;
  }
  /** A view of a weight or the KV cache (get_k, get_v, set_rows results): outside the allocator. */
  ext(srcs: GTensor[] = []): GTensor {
    const t: GTensor = { bytes: 0, srcs, external: true };
    this.nodes.push(t);
    return t;
  }
}

const input = (bytes: number): GTensor => ({ bytes, srcs: [], input: true });

/**
 * The graph of llama-style models (src/models/llama.cpp, gemma2.cpp) on llm_graph_context (llama-graph.cpp):
 * build_inp_embd (get_rows of tok_embd by inp_tokens), build_norm (rms_norm then mul, both in place), build_qkv
 * (Q, V, K mul_mat and reshape views), ggml_rope_ext (in place), build_attn -> cpy_k / cpy_v (set_rows into the cache
 * view) and build_attn_mha (flash_attn_ext, or mul_mat KQ, soft_max_ext in place, mul_mat KQV, permute, cont_2d),
 * the last layer's get_rows by out_ids, build_ffn (LLM_FFN_SILU/GELU + PAR: gate, up, swiglu/geglu, down), the
 * residual adds, then output_norm and the lm_head mul_mat.
 */
export function reserveGraph(g: GraphShape, layerIdx: number[]): { leafs: GTensor[]; nodes: GTensor[] } {
  const { t, nEmbd: e } = g;
  const F = 4;
  const b = new Builder();
  const hidden = F * e * t;
  // Inputs in leaf order (first use): inp_tokens, inp_pos, k_idxs, v_idxs, the KQ mask(s), out_ids.
  const inpTokens = input(4 * t);
  // inp_embd f32 [n_embd, n_tokens]: ggml_build_forward_select puts it in the graph as an input no node consumes
  // when tokens are given, so it is placed with the leafs and never freed.
  const inpEmbd = input(hidden);
  const inpPos = input(4 * t);
  const kIdxs = input(8 * t);
  const vIdxsOf = (l: LayerShape) => 8 * t * (g.fa ? 1 : l.vWidth);
  const maskBytes = (cells: number) => (g.fa ? 2 : 4) * cells * t;
  const first = g.layers[layerIdx[0]];
  const vIdxs = input(vIdxsOf(first));
  const maskBase = g.maskCells.base ? input(maskBytes(g.maskCells.base)) : undefined;
  const maskSwa = g.maskCells.swa ? input(maskBytes(g.maskCells.swa)) : undefined;
  const outIds = input(4 * t);
  // build_attn_inp_kv_iswa creates the base mask before the SWA one; leaf order follows first use by layer 0.
  const masks = first.swa ? [maskSwa, maskBase] : [maskBase, maskSwa];
  const leafs = [inpTokens, inpEmbd, inpPos, kIdxs, vIdxs, ...masks.filter((m): m is GTensor => !!m), outIds];

  let x = b.op(hidden, [inpTokens]); // get_rows (not in place)
  if (g.arch === "gemma2") x = b.op(hidden, [x], true); // ggml_scale(inpL, sqrt(n_embd))
  const norm = (src: GTensor) => b.op(src.bytes, [b.op(src.bytes, [src], true)], true);
  const last = g.layers.length - 1;
  for (const il of layerIdx) {
    const l = g.layers[il];
    const mask = (l.swa ? maskSwa : maskBase)!;
    const inpSA = x;
    const cur = norm(x);
    const q = b.op(F * l.qWidth * t, [cur]);
    let qr = b.op(q.bytes, [b.view(q), inpPos], true); // rope through a reshape view
    const v = b.op(F * l.vWidth * t, [cur]);
    const vr = b.view(v);
    const k = b.op(F * l.kWidth * t, [cur]);
    const kr = b.op(k.bytes, [b.view(k), inpPos], true);
    if (g.arch === "gemma2") qr = b.op(qr.bytes, [qr], true); // ggml_scale(Qcur, f_query_pre_attn_scalar)
    b.ext([b.view(kr), kIdxs]); // set_rows into cache_k
    if (g.fa) b.ext([b.view(vr), vIdxs]);
    else b.ext([b.view(b.view(vr)), vIdxs, b.ext()]); // v transposed: reshaped twice, cache reshaped
    b.ext();
    b.ext(); // get_k, get_v
    const qp = b.view(b.view(qr)); // view_4d per stream, permute
    b.ext();
    b.ext(); // permute k, v
    let o: GTensor;
    if (g.fa) {
      o = b.view(b.op(F * l.headV * g.nHead * t, [qp, mask])); // flash_attn_ext, reshape_2d
    } else {
      let kq = b.op(F * (l.swa ? g.maskCells.swa : g.maskCells.base) * t * g.nHead, [qp]);
      if (g.arch === "gemma2") kq = b.op(kq.bytes, [b.op(kq.bytes, [b.op(kq.bytes, [kq], true)], true)], true); // softcap: scale, tanh, scale
      const sm = b.op(kq.bytes, [kq, mask], true);
      const kqv = b.op(F * l.headV * g.nHead * t, [sm]);
      o = b.op(kqv.bytes, [b.view(kqv)]); // permute, cont_2d
    }
    let attn = b.op(hidden, [o]); // wo
    if (g.arch === "gemma2") attn = norm(attn); // attn_post_norm
    let res = inpSA;
    if (il === last) {
      attn = b.op(hidden, [attn, outIds]);
      res = b.op(hidden, [inpSA, outIds]);
    }
    const ffnInp = b.op(hidden, [attn, res], true);
    const fn = norm(ffnInp);
    const gate = b.op(F * l.nFf * t, [fn]);
    const up = b.op(F * l.nFf * t, [fn]);
    let ffnOut = b.op(hidden, [b.op(F * l.nFf * t, [gate, up])]); // swiglu / geglu, down
    if (g.arch === "gemma2") ffnOut = norm(ffnOut); // ffn_post_norm
    x = b.op(hidden, [ffnOut, ffnInp], true);
  }
  const resultNorm = norm(x);
  resultNorm.output = true;
  let logits = b.op(F * g.nVocab * t, [resultNorm]);
  if (g.arch === "gemma2") logits = b.op(logits.bytes, [b.op(logits.bytes, [b.op(logits.bytes, [logits], true)], true)], true); // final logit softcap
  logits.output = true;
  return { leafs, nodes: b.nodes };
}
