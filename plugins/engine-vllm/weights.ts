// Weights each vLLM worker loads ("Model loading took": GPUModelRunner.load_model records the memory profiler's
// consumed_memory, every tensor still allocated after loading): tensor-parallel sharding (vllm/model_executor/layers/
// linear.py Column/Row/QKVParallelLinear, ReplicatedLinear), the padded vocabulary (layers/vocab_parallel_embedding.py),
// MXFP4's padded experts (layers/quantization/mxfp4.py) and the RoPE cos/sin tables (rotary-embedding.ts).
import { weightScheme } from "../../lib/calc/index.js";
import type { DeploymentShape, Estimate, ModelSpec, TensorSpec } from "../../lib/calc/index.js";
import { modelDtypeBytes } from "./arg-utils.js";
import { ppStageLayers } from "./pp-stages.js";
import { ropeCacheBytes } from "./rotary-embedding.js";

/** vllm/model_executor/layers/vocab_parallel_embedding.py DEFAULT_VOCAB_PADDING_SIZE (pad_vocab_size). */
export const VLLM_VOCAB_PADDING = 64;

const roundUp = (x: number, n: number) => Math.ceil(x / n) * n;

export function paddedVocab(model: ModelSpec): number {
  return roundUp(model.vocabSize, VLLM_VOCAB_PADDING);
}

/** Which tensors vLLM keeps whole on every TP rank (ReplicatedLinear, norms, the MoE router). */
function replicated(t: TensorSpec): boolean {
  return t.role === "norm" || t.role === "router" || /attn_(q_a|kv_a)/.test(t.name);
}

/** Gate + up output width of each layer's routed experts (0 without experts). */
function expertWidths(model: ModelSpec): number[] {
  return model.layers.map((l) => {
    let w = 0;
    for (const t of l.tensors) {
      const n = t.name.slice(t.name.indexOf(".", 4) + 1);
      if (n === "ffn_gate_exps" || n === "ffn_up_exps") w += t.shape[1];
    }
    return w;
  });
}

/**
 * MXFP4 experts are allocated padded (Mxfp4MoEMethod.create_weights): the Marlin backend rounds the per-rank expert
 * intermediate size up to 128 and hidden up to 256; the Triton backend rounds the intermediate size up to 64.
 * Returns the byte factor per layer (1 for other schemes).
 */
function mxfp4ExpertPadding(model: ModelSpec, dep: DeploymentShape, scheme: string): (layer: number) => number {
  if (scheme.toLowerCase() !== "mxfp4") return () => 1;
  const marlin = dep.options?.mxfp4Backend === "marlin";
  const widths = expertWidths(model);
  return (i) => {
    const inter = widths[i] / 2 / dep.tp; // gate + up widths were summed
    if (!inter) return 1;
    const padI = roundUp(inter, marlin ? 128 : 64) / inter;
    const padH = marlin ? roundUp(model.hiddenSize, 256) / model.hiddenSize : 1;
    return padI * padH;
  };
}

/** --cpu-offload-gb in bytes ("The space in GiB to offload to CPU, per GPU", vllm/config OffloadConfig cpu_offload_gb). */
export const cpuOffloadBytes = (dep: DeploymentShape): number => (dep.options?.cpuOffloadGiB ?? 0) * 1024 ** 3;

/**
 * Weight bytes each pipeline stage's TP rank loads: column/row-parallel layers split by tp, replicated ones
 * whole, K/V projections hold max(1, kv_heads / tp) heads (QKVParallelLinear replicates KV heads when tp >
 * heads), and embedding / lm_head are padded to a multiple of 64 rows (VocabParallelEmbedding pad_vocab_size)
 * then split by tp. Stage 0 holds the embedding, the last stage the lm_head (a tied head is loaded there too).
 * Every rank also holds the RoPE tables of its attention layers.
 */
export function vllmWeightsPerRank(model: ModelSpec, dep: DeploymentShape): number[] {
  const scheme = weightScheme(dep.weights);
  const bytesOf = scheme.bytesFor(model);
  const tp = dep.tp;
  const vPad = paddedVocab(model);
  const out: number[] = [];
  const embed = model.globals.find((t) => t.role === "embedding");
  const head = model.globals.find((t) => t.role === "lm_head") ?? embed;
  const vocabBytes = (t: TensorSpec | undefined) => (t ? (bytesOf(t, -1) * vPad) / model.vocabSize / tp : 0);
  const rope = ropeCacheBytes(model, modelDtypeBytes(dep)).bytes;
  const layers = vllmLayerBytesPerRank(model, dep);
  const offloaded = vllmOffloadedPerRank(model, dep);
  for (let s = 0; s < layers.length; s++) {
    // --cpu-offload-gb: decoder-layer parameters (make_layers → the offloader) stay in host memory, per GPU.
    let b = layers[s].reduce((a, x) => a + x, 0) - offloaded[s];
    if (s === 0) b += vocabBytes(embed) + (model.vision ? (model.vision.params * 2) / tp : 0);
    if (s === layers.length - 1 && (head !== embed || layers.length > 1)) b += vocabBytes(head);
    for (const t of model.globals) if (t.role === "norm" && s === layers.length - 1) b += bytesOf(t, -1);
    out.push(Math.round(b + rope));
  }
  return out;
}

/** Bytes of each decoder layer on one rank of each pipeline stage (sharded by TP; KV projections replicated past the KV heads). */
export function vllmLayerBytesPerRank(model: ModelSpec, dep: DeploymentShape): number[][] {
  const scheme = weightScheme(dep.weights);
  const bytesOf = scheme.bytesFor(model);
  const tp = dep.tp;
  const expertPad = mxfp4ExpertPadding(model, dep, scheme.name);
  return ppStageLayers(model.layers.length, dep.pp).map((stage) =>
    stage.map((i) => {
      const l = model.layers[i];
      const c = l.cache;
      const kvHeads = "nKvHeads" in c ? c.nKvHeads : 0;
      let b = 0;
      for (const t of l.tensors) {
        let bytes = bytesOf(t, l.index);
        if (t.role === "expert") bytes *= expertPad(l.index);
        if (replicated(t)) b += bytes;
        else if (kvHeads && /attn_[kv](\.|$)/.test(t.name)) b += (bytes * Math.max(1, Math.floor(kvHeads / tp))) / kvHeads;
        else b += bytes / tp;
      }
      return b;
    }),
  );
}

/** Weight bytes each rank of each stage keeps in host memory: its decoder layers' parameters, up to --cpu-offload-gb. */
export function vllmOffloadedPerRank(model: ModelSpec, dep: DeploymentShape): number[] {
  const offload = cpuOffloadBytes(dep);
  return vllmLayerBytesPerRank(model, dep).map((stage) => Math.min(offload, stage.reduce((a, x) => a + x, 0)));
}

/**
 * What vLLM's weights add to the scheme's bytes, over all ranks: VocabParallelEmbedding / ParallelLMHead pad the
 * vocabulary to a multiple of 64 rows (pad_vocab_size), and every rank keeps the RoPE cos/sin tables.
 */
export function vllmWeightAdjustment(model: ModelSpec, dep: DeploymentShape): Estimate {
  const vPad = paddedVocab(model);
  const bytesOf = weightScheme(dep.weights).bytesFor(model);
  let extra = 0;
  for (const t of model.globals) {
    if (t.role === "embedding" || t.role === "lm_head") extra += (bytesOf(t, -1) * (vPad - model.vocabSize)) / model.vocabSize;
  }
  const rope = ropeCacheBytes(model, modelDtypeBytes(dep));
  const basis = [vPad === model.vocabSize ? "vLLM: vocabulary already a multiple of 64" : `vLLM pads the vocabulary ${model.vocabSize} → ${vPad} rows (pad_vocab_size)`];
  if (rope.bytes) basis.push(rope.basis);
  const offloaded = vllmOffloadedPerRank(model, dep).reduce((a, x) => a + x, 0) * dep.tp;
  if (offloaded) basis.push(`--cpu-offload-gb ${dep.options!.cpuOffloadGiB}: ${(offloaded / 1024 ** 3).toFixed(2)} GiB of decoder-layer weights in pinned host memory, read over the host link each forward (not in GPU memory)`);
  return { bytes: Math.round(extra + rope.bytes * dep.tp * dep.pp - offloaded), basis: basis.join("; ") };
}
