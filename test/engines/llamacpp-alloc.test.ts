// The ggml-alloc port (plugins/engine-llamacpp/alloc.ts) and the periodic truncation of the reserve graph
// (compute.ts simulatedLayers): placing the first two layer periods and the last layer gives the same peak as placing
// every layer, over llama, gemma2 (alternating SWA) and deepseek2 (MLA) graphs with flash attention on and off.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { gallocPeak } from "../../plugins/engine-llamacpp/alloc.js";
import type { GTensor } from "../../plugins/engine-llamacpp/alloc.js";
import { reserveGraph } from "../../plugins/engine-llamacpp/graph.js";
import type { GraphShape } from "../../plugins/engine-llamacpp/graph.js";
import { simulatedLayers } from "../../plugins/engine-llamacpp/compute.js";
import { compileLlamaModel } from "../../plugins/engine-llamacpp/model.js";
import { resolveGguf } from "../../loaders/gguf.js";
import { tinyModel, writeGguf } from "../helpers/gguf-writer.js";
import type { TinyModel } from "../helpers/gguf-writer.js";
import { scratchDir } from "../helpers/hermetic.js";

describe("ggml-alloc port", () => {
  it("best fit among the free blocks before the last, in place only over an own, single-use, non-view parent", () => {
    const inp: GTensor = { bytes: 64, srcs: [], input: true };
    const a: GTensor = { bytes: 96, srcs: [inp] }; // [64, 160)
    const v: GTensor = { bytes: 96, srcs: [a], viewOf: a };
    const r: GTensor = { bytes: 96, srcs: [v], inplace: true }; // parent is a view: a new tensor [160, 256)
    const s: GTensor = { bytes: 96, srcs: [r], inplace: true }; // own single-use parent: reuses r
    const o: GTensor = { bytes: 32, srcs: [s] }; // a and inp freed: best fit in the merged [0, 160) hole
    expect(gallocPeak([inp], [a, v, r, s, o])).toBe(256);
  });
});

describe("reserve graph periodicity", () => {
  const defs: TinyModel[] = [
    { arch: "llama", nLayer: 7, nEmbd: 256, nHead: 4, nHeadKv: 2, headDim: 64, nFf: 512 },
    { arch: "llama", nLayer: 6, nEmbd: 256, nHead: 4, nHeadKv: 2, headDim: 64, nFf: 2048, nVocab: 32768 },
    { arch: "gemma2", nLayer: 9, nEmbd: 256, nHead: 4, nHeadKv: 2, headDim: 64, nFf: 512, window: 128, tied: true },
    { arch: "deepseek2", nLayer: 6, nEmbd: 256, nHead: 4, kvLoraRank: 64, ropeDim: 32 },
  ];
  for (const d of defs)
    it(`${d.arch} × ${d.nLayer} layers: the truncated graph peaks where the full one does`, async () => {
      const file = join(scratchDir(), "m.gguf");
      const { metadata, tensors } = tinyModel(d);
      writeGguf(file, metadata, tensors);
      const m = compileLlamaModel((await resolveGguf(file)).model);
      const layers = m.layers.map((l) => ({ mla: l.mla, qWidth: m.qWidth, kWidth: l.kElems, vWidth: l.vElems, headV: l.headV, swa: l.memory === "swa", nFf: m.nFfMax }));
      for (const fa of [true, false])
        for (const [t, cells, streams] of [[128, 2048, 1], [513, 256, 3], [1024, 1024, 3]]) {
          const g: GraphShape = { t, nOutputs: t, nEmbd: m.nEmbd, nVocab: m.nVocab, nHead: m.nHead, fa, layers, kCacheElemBytes: 2, streams, maskCells: { base: cells, swa: m.swaWindow ? 384 : 0 }, arch: m.arch === "gemma2" ? "gemma2" : "llama" };
          const full = reserveGraph(g, layers.map((_, i) => i));
          const cut = reserveGraph(g, simulatedLayers(layers.length));
          expect(cut.nodes.length).toBeLessThan(full.nodes.length);
          expect(gallocPeak(cut.leafs, cut.nodes), `fa ${fa} t ${t} cells ${cells}`).toBe(gallocPeak(full.leafs, full.nodes));
        }
    });
});
