// llama.cpp's --fit (common/fit.cpp common_params_fit_impl) as hwledger fits it: the largest GPU layer count and
// context that keep each device's target free, checked against the plan's own per-device buffers at the boundary.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeDeployment, plan } from "../../lib/calc/index.js";
import type { EngineOptions, ModelSpec } from "../../lib/calc/index.js";
import { engineDevice } from "../../lib/fleet/devices.js";
import { resolveGguf } from "../../loaders/gguf.js";
import { FIT_TARGET_BYTES, fitOffload, rowTotal } from "../../plugins/engine-llamacpp/index.js";
import { engine } from "../../plugins/engines.js";
import { runCliJson } from "../helpers/cli.js";
import { tinyModel, writeGguf } from "../helpers/gguf-writer.js";

const dir = mkdtempSync(join(tmpdir(), "hwledger-fit-offload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const e = engine("llama.cpp");
const NL = 8;
async function tiny(): Promise<{ file: string; model: ModelSpec }> {
  const { metadata, tensors } = tinyModel({ arch: "llama", nLayer: NL, nEmbd: 256, nHead: 4, nHeadKv: 2, headDim: 64, nFf: 512, contextLength: 8192 });
  const file = join(dir, "tiny.gguf");
  writeGguf(file, metadata, tensors);
  return { file, model: (await resolveGguf(file)).model };
}
/** Bytes each GPU holds under -ngl / -ts at a context, from the plan's buffers. */
function gpuBytes(model: ModelSpec, context: number, options: EngineOptions): number[] {
  const b = plan(model, makeDeployment(model, { engine: e, context, options }), e).buffers!;
  return b.filter((r) => r.device !== "CPU").map(rowTotal);
}

describe("llama.cpp --fit", () => {
  it("hwledger fit --gguf FILE --engine llama.cpp --device rtx-4090 --json: everything fits, the trained context, 1024 MiB target", async () => {
    const { file } = await tiny();
    const j = (await runCliJson(["fit", "--gguf", file, "--engine", "llama.cpp", "--device", "rtx-4090", "--json"])) as { offload: { gpuLayers: number; layerSlots: number; context: number; fits: boolean; devices: { freeBytes: number; marginBytes: number; usedBytes: number; layers: number; output: boolean }[] } };
    expect(j.offload).toMatchObject({ gpuLayers: NL + 1, layerSlots: NL + 1, context: 8192, fits: true });
    expect(j.offload.devices[0]).toMatchObject({ freeBytes: engineDevice("rtx-4090").memoryBytes, marginBytes: FIT_TARGET_BYTES, layers: NL, output: true });
  }, 30_000);

  it("layers: the largest -ngl whose GPU buffers keep the target free, exactly at the boundary", async () => {
    const { model } = await tiny();
    const dep = makeDeployment(model, { engine: e, context: 4096 });
    for (const k of [1, 3, 6]) {
      const free = FIT_TARGET_BYTES + gpuBytes(model, 4096, { gpuLayers: k })[0];
      expect(fitOffload(model, dep, { freeBytes: [free], contextFixed: true }).gpuLayers).toBe(k);
      expect(fitOffload(model, dep, { freeBytes: [free - 1], contextFixed: true }).gpuLayers).toBe(k - 1);
    }
  });

  it("context (not given): the largest multiple of 256 with every layer on the GPU, before any layer leaves", async () => {
    const { model } = await tiny();
    const dep = makeDeployment(model, { engine: e, context: 8192 });
    const free = FIT_TARGET_BYTES + gpuBytes(model, 6144, {})[0];
    const f = fitOffload(model, dep, { freeBytes: [free], contextFixed: false });
    expect([f.gpuLayers, f.context]).toEqual([NL + 1, 6144]);
    // Given (-c), the context stays and layers leave instead.
    expect(fitOffload(model, dep, { freeBytes: [free], contextFixed: true }).gpuLayers).toBeLessThan(NL + 1);
  });

  it("two GPUs, back to front: the last takes the output layer and what fits, the first the rest; -ts is layer slots per GPU", async () => {
    const { model } = await tiny();
    const dep = makeDeployment(model, { engine: e, context: 4096 });
    const two = { tensorSplit: [2, 3], gpuLayers: 5 };
    const [a, b] = gpuBytes(model, 4096, two);
    const f = fitOffload(model, dep, { freeBytes: [FIT_TARGET_BYTES + a, FIT_TARGET_BYTES + b], contextFixed: true });
    expect(f.tensorSplit).toEqual([2, 3]);
    expect(f.gpuLayers).toBe(5);
    expect(f.devices.map((d) => [d.layers, d.output])).toEqual([[2, false], [2, true]]);
  });
});
