// Dispatch ranking and the cost model on hand-checkable cases.
import { describe, expect, it } from "vitest";
import { makeDeployment, perRankBytes } from "../../lib/calc/index.js";
import type { Kernels } from "../../lib/calc/index.js";
import { costPerMillionTokens, jobCost, ownedHourlyCost } from "../../lib/fleet/cost.js";
import { dispatch } from "../../lib/fleet/dispatch.js";
import type { DispatchCandidate, PlacementDevice } from "../../lib/fleet/dispatch.js";
import { GIB, PAPER_COMPUTE, paperModel } from "./model-fixtures.js";
import { ENGINES, engine } from "../../plugins/engines.js";

describe("cost model", () => {
  it("owned: depreciation over the busy hours plus power", () => {
    // 20,000 over 4 years at 50% utilization = 20000 / (4 × 8766 × 0.5) = 1.14077/h; 700 W at 0.20/kWh = 0.14/h.
    const c = ownedHourlyCost({ purchasePrice: 20000, lifespanYears: 4, powerWatts: 700, electricityPerKwh: 0.2, utilization: 0.5 });
    expect(c.perHour).toBeCloseTo(20000 / (4 * 8766 * 0.5) + 0.14, 6);
    expect(c.basis).toMatch(/50% utilization/);
  });
  it("per job and per million tokens", () => {
    expect(jobCost(3.6, 100)).toBeCloseTo(0.1, 10);
    // 2/h at 1000 tok/s: 3.6M tokens per hour -> 0.5556 per million.
    expect(costPerMillionTokens(2, 1000)).toBeCloseTo(2 / 3.6, 10);
    expect(() => ownedHourlyCost({ purchasePrice: 1, lifespanYears: 0, powerWatts: 1, electricityPerKwh: 1, utilization: 0.5 })).toThrow();
  });
});

describe("dispatch", () => {
  // 10 layers × 1 GiB = 10 GiB of bf16 weights, no KV: a decode step reads 10 GiB.
  const model = paperModel(10, 1);
  const base = makeDeployment(model, { engine: engine("llama.cpp"), context: 1024 });
  const dev = (id: string, gib: number, gbps: number): PlacementDevice => ({ id, name: id, memoryBytes: gib * GIB, bandwidthBytesPerSecond: gbps * 1e9, deviceClass: "cuda", compute: PAPER_COMPUTE });
  // One decode step of the paper model on a paper GPU: 10 GiB streamed at llama.cpp's bandwidth fraction, the BF16
  // weights' ALU cost and 10 layers' fixed cost (the engine's kernels, plugins/engine-llamacpp/speed.ts).
  const k = engine("llama.cpp").speed.kernels(dev("x", 1, 1), base) as Kernels;
  const secs = (gbps: number) => 1000 * ((10 * GIB) / (gbps * 1e9 * k.bandwidthFraction) + (k.opsPerWeight * 5 * GIB) / k.aluFlops + 10 * k.layerSeconds);
  const cands: DispatchCandidate[] = [
    { id: "small", source: "catalog", device: dev("small", 8, 1000), count: 1, perHour: 0.1 },
    { id: "fast-dear", source: "offer", device: dev("fast", 80, 3000), count: 1, perHour: 10 },
    { id: "slow-cheap", source: "fleet", device: dev("slow", 24, 100), count: 1, perHour: 0.5 },
    { id: "mid", source: "offer", device: dev("mid", 24, 1000), count: 1, perHour: 1 },
  ];
  const job = { context: 1024, seqs: 1, tokens: 1000 };

  it("ranks by cost, rejects what does not fit with the shortfall in GiB", () => {
    const r = dispatch(model, base, job, cands, ENGINES);
    const need = perRankBytes(model, { ...base, context: 1024 }, engine(base.engine));
    const small = r.rejected.find((x) => x.id === "small")!;
    expect(small.reason).toContain(`does not fit by ${((need - 8 * GIB) / GIB).toFixed(2)} GiB`);
    // seconds = 1000 tokens × one step: slow 117 s, mid 13.0 s, fast 5.3 s.
    const byId = Object.fromEntries(r.candidates.map((c) => [c.id, c]));
    expect(byId["slow-cheap"].seconds).toBeCloseTo(secs(100), 6);
    expect(byId["mid"].cost).toBeCloseTo((1 * secs(1000)) / 3600, 9);
    // mid: 0.0036, fast: 0.0148, slow: 0.0162 -> cheapest first.
    expect(r.candidates.map((c) => c.id)).toEqual(["mid", "fast-dear", "slow-cheap"]);
  });

  it("max latency and budget turn into reasons", () => {
    const r = dispatch(model, base, { ...job, maxLatencySeconds: 60, budget: 0.01 }, cands, ENGINES);
    expect(r.candidates.map((c) => c.id)).toEqual(["mid"]);
    expect(r.rejected.find((x) => x.id === "slow-cheap")!.reason).toBe(`too slow: ${secs(100).toFixed(1)} s estimated > max latency 60 s`);
    expect(r.rejected.find((x) => x.id === "fast-dear")!.reason).toMatch(new RegExp(`^over budget: ${((10 * secs(3000)) / 3600).toFixed(4)} estimated > budget 0\\.01`));
  });

  it("with a host, a GPU too small for the model gets an offloaded candidate (llama.cpp -ngl), marked and slower", () => {
    const host: PlacementDevice = { id: "host-cpu", name: "host", memoryBytes: 0, bandwidthBytesPerSecond: 50e9, deviceClass: "cpu", compute: PAPER_COMPUTE };
    const r = dispatch(model, base, { ...job, host }, cands, ENGINES);
    const off = r.candidates.find((c) => c.offload)!;
    expect(off.id).toMatch(/^small \(offload \d+\/11 layers\)$/);
    // llama.cpp's fit keeps 1024 MiB free: 8 GiB − 1 GiB holds the output layer and at most 6 of the 1 GiB layers.
    expect(off.offload!.layerSlots).toBe(11);
    expect(off.offload!.gpuLayers).toBeGreaterThanOrEqual(1);
    expect(off.offload!.gpuLayers).toBeLessThanOrEqual(7);
    expect(off.fit.perDeviceBytes).toBeLessThanOrEqual(7 * GIB);
    expect(off.offload!.hostBytes).toBeGreaterThanOrEqual((10 - off.offload!.gpuLayers + 1) * GIB);
    // Host layers stream from 50 GB/s host RAM: slower than the same GPU would be with the model inside.
    expect(off.seconds).toBeGreaterThan(secs(1000));
    expect(off.basis[0]).toMatch(/offload: \d+ of 11 layer slots on the GPU/);
    expect(r.rejected.find((x) => x.id === "small")).toBeUndefined();
  });
});
