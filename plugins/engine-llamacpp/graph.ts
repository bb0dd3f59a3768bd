// The reserve graph llama.cpp builds (llama-context.cpp graph_reserve: n_tokens = n_ubatch, n_outputs = n_tokens) as
// a symbolic op list for ggml-alloc (alloc.ts): only the tensors the compute buffer holds (activations and inputs),
// in the order ggml_build_forward_expand visits them, views included (they are graph nodes).
import type { GTensor } from "./alloc.js";

export interface GraphShape {
  /** n_tokens of the reserve ubatch (n_ubatch rounded up to a multiple of n_seqs). */
  t: number;
  /** n_outputs of the reserve graph (n_ubatch): out_ids, and every tensor after the last layer's get_rows. */
  nOutputs: number;
  nEmbd: number;
  nVocab: number;
  nHead: number;
  fa: boolean;
  /** Layers, each with its attention widths, cells it attends (n_kv of its cache per stream × streams) and n_ff. */
  layers: LayerShape[];
  /** Bytes per element of the K cache type (ggml_row_size / n): MLA's V is a view of it. */
  kCacheElemBytes: number;
  /** KV streams (n_seq_max unless unified): the cache views span every stream. */
  streams: number;
  /** KQ mask cells per cache kind (base, SWA) and streams: mask [n_kv, n_tokens / n_stream, 1, n_stream]. */
  maskCells: { base: number; swa: number };
  /** Architecture extras (src/models/*.cpp). */
  arch: "llama" | "gemma2";
}

export interface LayerShape {
  /** MLA widths (src/models/deepseek2.cpp, the absorbed is_mla path). */
  mla?: { kvLora: number; rope: number; nope: number; vHead: number };
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
  // Inputs are leafs, placed before any node in the order the graph first reaches them (ggml_visit_parents).
  const leafs: GTensor[] = [];
  const inputs = new Map<string, GTensor>();
  const input = (key: string, bytes: number): GTensor => {
    let x = inputs.get(key);
    if (!x) {
      inputs.set(key, (x = { bytes, srcs: [], input: true }));
      leafs.push(x);
    }
    return x;
  };
  const gemma2 = g.arch === "gemma2";
  const inpTokens = input("tokens", 4 * t);
  // inp_embd f32 [n_embd, n_tokens]: ggml_build_forward_select puts it in the graph as an input no node consumes
  // when tokens are given, so it is placed with the leafs and never freed.
  input("embd", hidden);
  let x = b.op(hidden, [inpTokens]); // get_rows (not in place)
  if (gemma2) x = b.op(hidden, [x], true); // ggml_scale(inpL, sqrt(n_embd))
  const norm = (src: GTensor) => b.op(src.bytes, [b.op(src.bytes, [src], true)], true);
  const scaleInPlace = (src: GTensor, n: number) => {
    for (let i = 0; i < n; i++) src = b.op(src.bytes, [src], true);
    return src;
  };
  const last = g.layers.length - 1;
  for (const il of layerIdx) {
    const l = g.layers[il];
    const inpPos = input("pos", 4 * t);
    // Each cache (base, SWA) has its own row indices and mask (llama-graph.cpp build_attn_inp_kv / _iswa):
    // k_idxs i64 [n_tokens], v_idxs i64 [n_tokens] (per element [n_tokens × n_embd_v_gqa] when V is stored
    // transposed, i.e. flash attention off), the KQ mask [n_kv, n_tokens / n_stream, 1, n_stream] f16 (FA) or f32.
    const kind = l.swa ? "swa" : "base";
    const cells = l.swa ? g.maskCells.swa : g.maskCells.base;
    const inpSA = x;
    const cur = norm(x);
    let o: GTensor;
    if (l.mla) o = mlaAttention(b, g, l.mla, cur, inpPos, input(`k_idxs ${kind}`, 8 * t), (bytes) => input(`mask ${kind}`, bytes), cells);
    else {
    const q = b.op(F * l.qWidth * t, [cur]);
    let qr = b.op(q.bytes, [b.view(q), inpPos], true); // rope of a reshape view: not in place (alloc.ts)
    if (gemma2) qr = scaleInPlace(qr, 1); // ggml_scale(Qcur, f_attention_scale)
    // build_attn expands q, v, k (llm_graph_input_attn_kv) or q, k, v (the iSWA variant).
    const vProj = () => b.view(b.op(F * l.vWidth * t, [cur]));
    const kProj = () => {
      const k = b.op(F * l.kWidth * t, [cur]);
      return b.op(k.bytes, [b.view(k), inpPos], true);
    };
    let vr: GTensor, kr: GTensor;
    if (gemma2) {
      kr = kProj();
      vr = vProj();
    } else {
      vr = vProj();
      kr = kProj();
    }
    const kIdxs = input(`k_idxs ${kind}`, 8 * t);
    b.ext([b.view(kr), kIdxs]); // set_rows into cache_k
    const vIdxs = input(`v_idxs ${kind}`, 8 * t * (g.fa ? 1 : l.vWidth));
    if (g.fa) b.ext([b.view(vr), vIdxs]);
    else b.ext([b.view(b.view(vr)), vIdxs, b.ext()]); // v transposed: reshaped twice, cache reshaped
    b.ext();
    b.ext(); // get_k, get_v
    const qp = b.view(b.view(qr)); // view_4d per stream, permute
    b.ext();
    b.ext(); // permute k, v
    if (g.fa) {
      const mask = input(`mask ${kind}`, 2 * cells * t);
      o = b.view(b.op(F * l.headV * g.nHead * t, [qp, mask])); // flash_attn_ext, reshape_2d
    } else {
      let kq = b.op(F * cells * t * g.nHead, [qp]);
      if (gemma2) kq = scaleInPlace(kq, 3); // attn softcap: scale, tanh, scale
      const mask = input(`mask ${kind}`, 4 * cells * t);
      const sm = b.op(kq.bytes, [kq, mask], true);
      const kqv = b.op(F * l.headV * g.nHead * t, [sm]);
      o = b.op(kqv.bytes, [b.view(kqv)]); // permute, cont_2d
    }
    }
    let attn = b.op(hidden, [o]); // wo
    let res = inpSA;
    let h = hidden;
    let tf = t;
    if (il === last) {
      // get_rows by out_ids: from here on n_outputs rows.
      tf = g.nOutputs;
      h = F * e * tf;
      const outIds = input("out_ids", 4 * tf);
      attn = b.op(h, [attn, outIds]);
      res = b.op(h, [inpSA, outIds]);
    }
    if (gemma2) attn = norm(attn); // attn_post_norm
    const ffnInp = b.op(h, [attn, res], true);
    const fn = norm(ffnInp);
    const gate = b.op(F * l.nFf * tf, [fn]);
    const up = b.op(F * l.nFf * tf, [fn]);
    let ffnOut = b.op(h, [b.op(F * l.nFf * tf, [gate, up])]); // swiglu / geglu (not in place), down
    if (gemma2) ffnOut = norm(ffnOut); // ffn_post_norm
    x = b.op(h, [ffnOut, ffnInp], true);
  }
  const resultNorm = norm(x);
  resultNorm.output = true;
  let logits = b.op(F * g.nVocab * g.nOutputs, [resultNorm]);
  if (gemma2) logits = scaleInPlace(logits, 3); // final logit softcap: scale, tanh, scale
  logits.output = true;
  return { leafs, nodes: b.nodes };
}

/**
 * MLA attention as src/models/deepseek2.cpp builds it for a lite model (one attn_q) with is_mla: q, its nope part
 * absorbed through wk_b (mul_mat on a permute view), its rope part roped out of a view (a new tensor), Qcur = concat;
 * kv_cmpr_pe, the norm of its kv_cmpr view (rms_norm of a view: new), the roped k_pe view, Kcur = concat, stored by
 * set_rows (a K-only cache, llama-graph.cpp build_attn_inp_k); build_attn_mha with v_mla: flash_attn_ext then
 * mul_mat by wv_b, permute, cont; without flash attention v = cont(transpose(v)) of the cache (f16), kq, soft_max in
 * place, kqv, mul_mat by wv_b, permute, cont_2d.
 */
function mlaAttention(b: Builder, g: GraphShape, m: NonNullable<LayerShape["mla"]>, cur: GTensor, inpPos: GTensor, kIdxs: GTensor, mask: (bytes: number) => GTensor, cells: number): GTensor {
  const { t, nHead: h } = g;
  const F = 4;
  const q = b.op(F * h * (m.nope + m.rope) * t, [cur]);
  const q3 = b.view(q); // reshape_3d
  const absorbed = b.op(F * m.kvLora * h * t, [b.view(b.view(q3))]); // view_3d q_nope, permute; mul_mat wk_b
  const absorbedPerm = b.view(absorbed);
  const qPe = b.op(F * m.rope * h * t, [b.view(q3), inpPos], true); // rope of a view_3d: a new tensor
  const qcur = b.op(absorbedPerm.bytes + qPe.bytes, [absorbedPerm, qPe]); // concat
  const kvPe = b.op(F * (m.kvLora + m.rope) * t, [cur]);
  const kvNorm = b.op(F * m.kvLora * t, [b.op(F * m.kvLora * t, [b.view(kvPe)], true)], true); // rms_norm(view), mul
  const kvR = b.view(kvNorm); // reshape_3d
  const kPe = b.op(F * m.rope * t, [b.view(kvPe), inpPos], true);
  const kcur = b.op(kvR.bytes + kPe.bytes, [kvR, kPe]); // concat
  b.ext([b.view(kcur), kIdxs]); // set_rows into cache_k
  b.ext();
  b.ext(); // get_k, get_v (a view of the K cache)
  const qp = b.view(b.view(qcur)); // view_4d, permute
  b.ext();
  b.ext(); // permute k, v
  let kqv: GTensor;
  if (g.fa) kqv = b.view(b.op(F * m.kvLora * h * t, [qp, mask(2 * cells * t)])); // flash_attn_ext, permute
  else {
    const vCont = b.op(g.kCacheElemBytes * m.kvLora * cells * g.streams, [b.ext()]); // cont(transpose(v)): the cache's type
    const kq = b.op(F * cells * t * h, [qp]);
    const sm = b.op(kq.bytes, [kq, mask(4 * cells * t)], true);
    kqv = b.op(F * m.kvLora * h * t, [vCont, sm]);
  }
  const mla = b.op(F * m.vHead * h * t, [kqv]); // mul_mat wv_b
  return b.view(b.op(mla.bytes, [b.view(mla)])); // permute, cont (, reshape_2d)
}
