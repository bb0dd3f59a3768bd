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
    let o: GTensor;
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
    let attn = b.op(hidden, [o]); // wo
    let res = inpSA;
    if (il === last) {
      const outIds = input("out_ids", 4 * t);
      attn = b.op(hidden, [attn, outIds]);
      res = b.op(hidden, [inpSA, outIds]);
    }
    if (gemma2) attn = norm(attn); // attn_post_norm
    const ffnInp = b.op(hidden, [attn, res], true);
    const fn = norm(ffnInp);
    const gate = b.op(F * l.nFf * t, [fn]);
    const up = b.op(F * l.nFf * t, [fn]);
    let ffnOut = b.op(hidden, [b.op(F * l.nFf * t, [gate, up])]); // swiglu / geglu (not in place), down
    if (gemma2) ffnOut = norm(ffnOut); // ffn_post_norm
    x = b.op(hidden, [ffnOut, ffnInp], true);
  }
  const resultNorm = norm(x);
  resultNorm.output = true;
  let logits = b.op(F * g.nVocab * t, [resultNorm]);
  if (gemma2) logits = scaleInPlace(logits, 3); // final logit softcap: scale, tanh, scale
  logits.output = true;
  return { leafs, nodes: b.nodes };
}
