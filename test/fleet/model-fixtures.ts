// Hand-checkable synthetic models: every layer's bytes are round numbers, so results can be verified on paper.
import type { LayerSpec, ModelSpec, TensorSpec } from "../../lib/calc/index.js";

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
