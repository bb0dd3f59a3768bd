// The split planner on cases a person can check on paper.
import { describe, expect, it } from "vitest";
import { makeDeployment } from "../../lib/calc/index.js";
import type { PlacementDevice } from "../../lib/fleet/dispatch.js";
import { migration, planSplit } from "../../lib/fleet/split.js";
import { llamaTensorSplit } from "../../plugins/engine-llamacpp/index.js";
import { GIB, PAPER_COMPUTE, paperModel } from "./model-fixtures.js";
import { ENGINES, engine } from "../../plugins/engines.js";

const dev = (id: string, gib: number, gbps: number): PlacementDevice => ({ id, name: id, memoryBytes: gib * GIB, bandwidthBytesPerSecond: gbps * 1e9, deviceClass: "cuda", compute: PAPER_COMPUTE });

describe("split planner", () => {
  // 30 layers of 1 GiB; a 24 GB device at 1000 GB/s and a 12 GB one at 500 GB/s; 1 GiB reserved on each; vLLM told
  // to use the whole memory (--gpu-memory-utilization 1) so the paper sums stay whole numbers.
  const model = paperModel(30, 1);
  const dep = makeDeployment(model, { engine: engine("vllm"), context: 1024, options: { gpuMemoryUtilization: 1 } });
  const fast = dev("big", 24, 1000);
  const slow = dev("small", 12, 500);

  it("balances stage time: the device with twice the bandwidth takes twice the layers (20 + 10)", () => {
    const p = planSplit(model, dep, [fast, slow], ENGINES, { reserveBytes: GIB });
    expect(p.assignments.map((a) => [a.device, a.layerStart, a.layerEnd])).toEqual([
      ["big", 0, 19],
      ["small", 20, 29],
    ]);
    expect(p.assignments[0].memoryBytes).toBe(21 * GIB);
    expect(p.assignments[1].memoryBytes).toBe(11 * GIB);
    // vLLM's decode streams at 0.8 of peak (aiconfigurator's factor): both stages read 20 GiB at 800 GB/s and 10 GiB at
    // 400 GB/s, 26.8 ms each, 53.7 ms per token in series.
    expect(p.assignments[0].stageSeconds).toBeCloseTo((20 * GIB) / 800e9, 9);
    expect(p.tokensPerSecond).toBeCloseTo(1 / ((40 * GIB) / 800e9), 6);
    expect(p.pipelineTokensPerSecond).toBeCloseTo(800e9 / (20 * GIB), 6);
  });

  it("memory binds before speed: an 8 GB device holds only 7 layers beside its 1 GiB reserve", () => {
    const p = planSplit(model, dep, [fast, dev("tiny", 8, 500)], ENGINES, { reserveBytes: GIB });
    expect(p.assignments.map((a) => a.layers)).toEqual([23, 7]);
  });

  it("llama.cpp with --host: a model the devices cannot hold keeps its first layers in host RAM (offloaded, -ngl below the layer count)", () => {
    const lc = makeDeployment(model, { engine: engine("llama.cpp"), context: 1024 });
    const host: PlacementDevice = { id: "host-cpu", name: "host", memoryBytes: 0, bandwidthBytesPerSecond: 50e9, deviceClass: "cpu", compute: PAPER_COMPUTE };
    expect(() => planSplit(model, lc, [dev("a", 12, 500)], ENGINES, { reserveBytes: GIB })).toThrow(/does not fit/);
    const p = planSplit(model, lc, [dev("a", 12, 500)], ENGINES, { reserveBytes: GIB, host });
    const [h, g] = p.assignments;
    // The host takes layers from 0 (load_tensors: layers below i_gpu_start stay on the CPU); the GPU the rest and the output.
    expect([h.device, h.layerStart, g.layerEnd, g.output]).toEqual(["host-cpu", 0, 29, true]);
    expect(g.memoryBytes).toBeLessThanOrEqual(12 * GIB);
    expect(p.offload).toEqual({ host: "host-cpu", hostLayers: h.layers, gpuLayers: 31 - h.layers });
    expect(p.commands.llamaCpp.join(" ")).toContain(`-ngl ${31 - h.layers}`);
    expect(Object.keys(p.commands)).toEqual(["llamaCpp"]);
  });

  it("vLLM's default keeps a tenth of each device back (gpu_memory_utilization 0.9): 8 GB holds 6 layers, not 7", () => {
    const d = makeDeployment(model, { engine: engine("vllm"), context: 1024 });
    const p = planSplit(model, d, [dev("big", 40, 1000), dev("tiny", 8, 500)], ENGINES, { reserveBytes: GIB });
    expect(p.assignments[1].capacityBytes).toBe(Math.round(0.9 * 8 * GIB));
    expect(p.assignments.map((a) => a.layers)).toEqual([24, 6]);
  });

  it("a model that fits nowhere is a clear error naming the shortfall", () => {
    expect(() => planSplit(model, dep, [dev("a", 12, 500), dev("b", 12, 500)], ENGINES, { reserveBytes: GIB })).toThrow(/does not fit on a, b: needs 32\.00 GiB/);
  });

  it("--without: the migration lists which layers move where", () => {
    const three = [dev("a", 40, 1000), dev("b", 24, 1000), dev("c", 24, 1000)];
    const before = planSplit(model, dep, three, ENGINES, { reserveBytes: GIB });
    expect(before.assignments.map((a) => a.layers)).toEqual([10, 10, 10]);
    const after = planSplit(model, dep, [three[0], three[2]], ENGINES, { reserveBytes: GIB });
    expect(after.assignments.map((a) => a.layers)).toEqual([15, 15]);
    expect(migration(before, after)).toEqual([
      { layerStart: 10, layerEnd: 14, from: "b", to: "a" },
      { layerStart: 15, layerEnd: 19, from: "b", to: "c" },
    ]);
  });

  it("the emitted --tensor-split reproduces the planned ranges under llama.cpp's own layer rule", () => {
    const m = paperModel(30, 1, 0.5);
    const d = makeDeployment(m, { engine: engine("llama.cpp"), context: 1024 });
    // llama.cpp order: RPC devices first, then the main host (first in --devices), which holds the output.
    const p = planSplit(m, d, [dev("main", 24, 1000), dev("rpc1", 12, 500), dev("rpc2", 16, 700)], ENGINES, { reserveBytes: GIB });
    expect(p.assignments.map((a) => a.device)).toEqual(["rpc1", "rpc2", "main"]);
    const ts = llamaTensorSplit(p.assignments);
    // src/llama-model.cpp load_tensors: splits = normalized prefix sums; layer il -> upper_bound(splits, il / (n_layer + 1)).
    const sum = ts.reduce((a, b) => a + b, 0);
    let acc = 0;
    const splits = ts.map((v) => (acc += v) / sum).map(Math.fround);
    const deviceOf = (il: number) => splits.findIndex((s) => s > Math.fround(il / 31));
    for (const [k, a] of p.assignments.entries()) for (let il = a.layerStart; il <= a.layerEnd; il++) expect(deviceOf(il)).toBe(k);
    expect(deviceOf(30)).toBe(2); // the output slot lands on the main host
    expect(p.commands.llamaCpp.at(-1)).toContain(`--tensor-split ${ts.join(",")}`);
    expect(p.commands.llamaCpp.at(-1)).toContain("--rpc HOST_OF_RPC1:50052,HOST_OF_RPC2:50052");
    expect(p.commands.vllm[0]).toContain(`VLLM_PP_LAYER_PARTITION=${p.assignments.map((a) => a.layers).join(",")}`);
  });
});
