// The compute buffer llama.cpp reserves (llama-context.cpp sched_reserve -> graph_reserve): the peak offset
// ggml-alloc reaches (ggml/src/ggml-alloc.c ggml_gallocr_alloc_graph_impl) while it places the worst-case graph.
import type { Deployment, DeploymentShape, ModelSpec } from "../../lib/calc/index.js";
import { contextOf } from "./context.js";
import { compileLlamaModel } from "./model.js";
import type { LlamaModel } from "./model.js";

/**
 * n_tokens = min(n_ctx, n_ubatch) rounded up to a multiple of n_seq_max, every one of n_outputs = min(n_tokens,
 * n_batch) an output. Inputs are placed first and freed after their last consumer; a node reuses its parent only for
 * in-place ops (ggml_op_can_inplace: ADD, MUL, RMS_NORM, SOFT_MAX…; not MUL_MAT, GLU, FLASH_ATTN_EXT, nor ROPE through
 * a reshape view); graph outputs (result_norm, result_output) are never freed. Bytes of the stage that peaks,
 * without the token-embedding input (see computeBufferAt).
 */
export function deviceComputeBuffer(m: LlamaModel, shape: DeploymentShape, context: number, seqs: number): number {
  const s = computeStages(m, shape, context, seqs);
  return Math.max(s.out, s.ffn, s.attn);
}

/**
 * The peak of each stage of the reserve graph (each over the graph inputs), and the CPU-side inputs. A backend's
 * compute buffer is the peak of the stages it runs (ggml_backend_sched gives each backend its own gallocr): the
 * output stage where the output layer sits, the attention and FFN blocks where repeating layers sit.
 */
export function computeStages(m: LlamaModel, shape: DeploymentShape, context: number, seqs: number): { out: number; ffn: number; attn: number; cpuInputs: number; hidden: number } {
  const fa = shape.options?.flashAttention ?? true;
  const c = contextOf(shape, m.swaWindow, context, seqs);
  const nOut = c.nUbatch;
  // graph_reserve: n_tokens rounded up to a multiple of n_seqs (ubatch_reserve(n_tokens / n_seqs, n_seqs)).
  const t = Math.ceil(nOut / seqs) * seqs;
  const e = m.nEmbd;
  const x = 4 * t * e; // one hidden state, f32 [n_embd, n_tokens]
  const q = 4 * t * m.qWidth; // Qcur f32 [n_embd_head_k, n_head, n_tokens]
  // Graph inputs (llama-graph.cpp): inp_pos i32, self_k_idxs / self_v_idxs i64 (v_idxs per element when V is stored
  // transposed, i.e. flash attention off), out_ids i32, and the KQ mask [n_kv, n_tokens / n_stream, 1, n_stream]
  // (f16 with flash attention, else f32) per cache (base, and SWA when present); n_kv = cells of one stream.
  const maskCells = c.nCtxSeq + c.swaCells;
  const inputs = 4 * t + 8 * t + 8 * t * (fa ? 1 : m.maxVElems) + (fa ? 2 : 4) * maskCells * t + 4 * nOut;
  // Output (llama-graph.cpp build output): result_norm f32 [n_embd, n_outputs] stays (graph output) while
  // result_output = mul_mat(output, result_norm) f32 [n_vocab, n_outputs] is placed; every input is freed by then.
  const out = 4 * nOut * e + 4 * nOut * m.nVocab;
  // FFN block (llama-graph.cpp build_ffn, LLM_FFN_SILU + PAR): ffn_inp and ffn_norm [n_embd] below gate, up and the
  // swiglu result [n_ff] (GLU is not in-place, so three n_ff-wide tensors are live at once).
  const ffn = inputs + 2 * x + 3 * 4 * t * m.nFfMax;
  // Attention block (build_attn / build_attn_mha): inpL and attn_norm [n_embd], Qcur and its rope (a new tensor: the
  // rope's parent is a reshape view) [n_head × head_k]; without flash attention the KQ scores f32
  // [n_kv, n_tokens, n_head] (soft_max runs in place) are placed above them.
  let attn = inputs + 2 * x + 2 * q;
  if (!fa) attn += 4 * c.nCtxSeq * t * m.nHead;
  // inp_tokens i32 and inp_embd f32 [n_embd, n_tokens] at the bottom of the CPU buffer (see llamaCppComputeBuffer).
  return { out, ffn, attn, cpuInputs: 4 * t + x, hidden: x };
}

/**
 * The compute-buffer estimate split as llama.cpp allocates it: `device` is what the plan reports (the buffer of the
 * backend running the layers and the output); `cpuInputs` are inp_tokens i32 and the token-embedding input inp_embd
 * f32 [n_embd, n_tokens] (llama-graph.cpp build_inp_embd: an input no node consumes when tokens are given, so
 * ggml-alloc never frees it), which sit at the bottom of the CPU buffer (the input layer runs on the CPU): a CPU-only
 * run prints device + cpuInputs. `hiddenState` (f32 [n_embd, n_tokens]) is the size of the allocator hole the closed
 * form does not place.
 */
export function llamaCppComputeBuffer(model: ModelSpec, dep: Deployment): { device: number; cpuInputs: number; hiddenState: number } {
  const m = compileLlamaModel(model);
  const c = contextOf(dep, m.swaWindow, dep.context, dep.seqs);
  const t = Math.ceil(c.nUbatch / dep.seqs) * dep.seqs;
  return { device: deviceComputeBuffer(m, dep, dep.context, dep.seqs), cpuInputs: 4 * t + 4 * t * m.nEmbd, hiddenState: 4 * t * m.nEmbd };
}
