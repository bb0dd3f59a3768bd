// The compute buffer llama.cpp reserves (llama-context.cpp sched_reserve -> graph_reserve): the peak offset
// ggml-alloc reaches (ggml/src/ggml-alloc.c ggml_gallocr_alloc_graph_impl) while it places the worst-case graph.
import type { Deployment, DeploymentShape, ModelSpec } from "../../lib/calc/index.js";
import { kvType } from "./cache.js";
import { contextOf } from "./context.js";
import { compileLlamaModel } from "./model.js";
import type { LlamaModel } from "./model.js";
import { gallocPeak } from "./alloc.js";
import { reserveGraph } from "./graph.js";
import type { GraphShape } from "./graph.js";

/** Architectures whose reserve graph graph.ts builds (src/models/llama.cpp, gemma2.cpp, deepseek2.cpp). */
const SIMULATED = new Set(["llama", "gemma2", "deepseek2"]);

/**
 * The whole reserve graph on one backend, placed by the ggml-alloc port (alloc.ts); undefined where graph.ts does not
 * build the model's graph (other architectures, MoE, attention biases, layers without KV attention).
 */
export function simulatedPeak(m: LlamaModel, fa: boolean, kCacheElemBytes: number, t: number, nOutputs: number, streams: number, maskCells: { base: number; swa: number }): number | undefined {
  if (!graphBuilt(m)) return undefined;
  const layers = m.layers.map((l) => ({ mla: l.mla, qWidth: m.qWidth, kWidth: l.kElems, vWidth: l.vElems, headV: l.headV, swa: l.memory === "swa", nFf: m.nFfMax }));
  const g: GraphShape = { t, nOutputs, nEmbd: m.nEmbd, nVocab: m.nVocab, nHead: m.nHead, fa, layers, kCacheElemBytes, streams, maskCells, arch: m.arch === "gemma2" ? "gemma2" : "llama" };
  const { leafs, nodes } = reserveGraph(g, simulatedLayers(layers.length));
  return gallocPeak(leafs, nodes);
}

/** graph.ts builds this model's reserve graph: a simulated architecture, dense attention layers, no q/k/v biases. */
export function graphBuilt(m: LlamaModel): boolean {
  return SIMULATED.has(m.arch) && !m.attnBias && m.layers.every((l) => (l.memory === "base" || l.memory === "swa") && !l.moe && !l.qLora);
}

/**
 * A quantized cache with heads of a multiple of 64 gets Hadamard rotations of q, k, v and the attention output
 * (llama-kv-cache.cpp llama_kv_cache: attn_rot_k / attn_rot_v; llama-graph.cpp build_attn llama_mul_mat_hadamard):
 * nodes graph.ts does not build, so those plans keep the closed form.
 */
export function hadamardRotated(m: LlamaModel, shape: DeploymentShape): boolean {
  const kt = kvType(shape.kvDtypeK, "K");
  const vt = kvType(shape.kvDtypeV, "V");
  const head0 = m.layers.find((l) => l.memory === "base" || l.memory === "swa");
  return (kt.blockSize > 1 && (head0?.headK ?? 0) % 64 === 0) || (vt.blockSize > 1 && (head0?.headV ?? 0) % 64 === 0);
}

/** Layers repeat the same ops (a period of 1, or 2 where SWA and full layers alternate, as in gemma2). */
export const LAYER_PERIOD = 2;

/**
 * The layers whose graph is placed: the first two periods and the last layer (the one with the out_ids get_rows).
 * Each layer frees all it allocates but its residual, so from the second period on the allocator enters each period
 * in the same state and the peak of further periods repeats (test/engines/llamacpp-alloc.test.ts compares the full
 * graph with this one); this keeps the work per evaluation independent of the layer count.
 */
export function simulatedLayers(nLayer: number): number[] {
  const head = Math.min(nLayer - 1, 2 * LAYER_PERIOD);
  return [...Array.from({ length: head }, (_, i) => i), nLayer - 1];
}

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
 * The CPU buffer of a CPU-only run (the whole graph on one backend) placed by the ggml-alloc port, or undefined
 * where graph.ts does not build the graph (graphBuilt) or Hadamard rotations apply.
 */
export function cpuOnlyCompute(m: LlamaModel, shape: DeploymentShape, context: number, seqs: number): number | undefined {
  if (!graphBuilt(m) || hadamardRotated(m, shape)) return undefined;
  const c = contextOf(shape, m.swaWindow, context, seqs);
  const t = Math.ceil(c.nUbatch / seqs) * seqs;
  const kt = kvType(shape.kvDtypeK, "K");
  return simulatedPeak(m, shape.options?.flashAttention ?? true, kt.typeSize / kt.blockSize, t, c.nUbatch, c.nStream, { base: c.nCtxSeq, swa: c.swaCells });
}

/**
 * The compute-buffer estimate split as llama.cpp allocates it: `device` is the closed form of the backend running the
 * layers and the output; `cpuInputs` are inp_tokens i32 and the token-embedding input inp_embd f32 [n_embd, n_tokens]
 * (an input no node consumes when tokens are given, so ggml-alloc never frees it) at the bottom of the CPU buffer.
 * `cpuOnly` is the CPU buffer of a CPU-only run: the ggml-alloc simulation where graph.ts builds the model's graph
 * (`simulated`), else device + cpuInputs. `hiddenState` (f32 [n_embd, n_tokens]) is the closed form's allocator hole.
 */
export function llamaCppComputeBuffer(model: ModelSpec, dep: Deployment): { device: number; cpuInputs: number; hiddenState: number; cpuOnly: number; simulated: boolean } {
  const m = compileLlamaModel(model);
  const st = computeStages(m, dep, dep.context, dep.seqs);
  const device = Math.max(st.out, st.ffn, st.attn);
  const whole = cpuOnlyCompute(m, dep, dep.context, dep.seqs);
  return { device, cpuInputs: st.cpuInputs, hiddenState: st.hidden, cpuOnly: whole ?? device + st.cpuInputs, simulated: whole !== undefined };
}
