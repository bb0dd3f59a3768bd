// Hand-checkable synthetic models: every layer's bytes are round numbers, so results can be verified on paper.
import type { DeviceCompute, LayerSpec, ModelSpec, TensorSpec } from "../../lib/calc/index.js";

export const GIB = 1024 ** 3;

/** A model of `layers` blocks of exactly `layerGiB` GiB each in bf16, no KV cache, optional output head. */
export function paperModel(layers: number, layerGiB: number, outputGiB = 0): ModelSpec {
  const elems = (gib: number) => (gib * GIB) / 2;
  const blocks: LayerSpec[] = Array.from({ length: layers }, (_, i) => ({
    index: i,
    kind: "mlp",
    cache: { kind: "none" },
    tensors: [{ name: `blk.${i}.ffn_up`, shape: [1024, elems(layerGiB) / 1024], role: "ffn" } satisfies TensorSpec],
  }));
  const globals: TensorSpec[] = outputGiB ? [{ name: "output", shape: [1024, elems(outputGiB) / 1024], role: "lm_head" }] : [];
  return { id: `paper-${layers}x${layerGiB}`, modelType: "paper", family: "paper", hiddenSize: 1024, vocabSize: 1, nHeads: 8, maxContext: 4096, tiedEmbeddings: false, nativeDtype: "bfloat16", layers: blocks, globals, notes: [] };
}

/**
 * Compute figures of a paper GPU (GDDR, NVIDIA, an RTX 4090's rates) for placement tests that need an engine's
 * kernels: the speed model needs the ALU rate, tensor peaks and SMs × clock, not only bandwidth.
 */
export const PAPER_COMPUTE: DeviceCompute = {
  vendor: "nvidia",
  kernelFamily: "cuda-turing+",
  memoryClass: "gddr",
  fp16Tensor: 330e12,
  fp16TensorAcc32: 165e12,
  int8Tensor: 660e12,
  alu: 82.6e12,
  issueRate: 322.6e9,
  dies: 1,
  missing: {},
};
