// vLLM --cpu-offload-gb: weights kept in pinned host memory per GPU (off the GPU's memory, so the KV budget grows by as
// much) and read over the host link each forward (the speed cost, as segments of the speed model). Rules from vLLM's
// offloader (plugins/engine-vllm/offload.ts cites them); no measured offload run is kept, so no figure here is checked
// against a real one: the test holds the arithmetic to what the rules say.
import { describe, expect, it } from "vitest";
import { compileSpeed, fit, makeDeployment, pcieBytesPerSecond, plan, speedOf, speedOfSegments } from "../../lib/calc/index.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { findDevice } from "../../lib/fleet/devices.js";
import { catalogConfig, findCatalogEntry } from "../../loaders/catalog.js";
import { modelFromHfConfig } from "../../lib/calc/index.js";
import { vllmOffloadSegments, vllmWeightsPerRank } from "../../plugins/engine-vllm/index.js";
import { engine } from "../../plugins/engines.js";
import { runCli, runCliJson } from "../helpers/cli.js";

const GIB = 1024 ** 3;
const id = "meta-llama/Llama-3.1-8B-Instruct";
const model = modelFromHfConfig(catalogConfig(findCatalogEntry(id)!), id);
const vllm = engine("vllm");
const dep = makeDeployment(model, { engine: vllm, context: 8192, seqs: 1 });
const off = { ...dep, options: { cpuOffloadGiB: 4 } };

describe("vLLM --cpu-offload-gb", () => {
  it("takes exactly the offloaded GiB off each GPU's weights and adds them to the KV budget", () => {
    expect(vllmWeightsPerRank(model, dep)[0] - vllmWeightsPerRank(model, off)[0]).toBeCloseTo(4 * GIB, -1);
    const p0 = plan(model, dep, vllm);
    const p1 = plan(model, off, vllm);
    expect(p0.memory.weightsBytes - p1.memory.weightsBytes).toBeCloseTo(4 * GIB, -1);
    expect(p1.basis.join(" ")).toMatch(/cpu-offload-gb 4: 4\.00 GiB/);
    const budget = { gpuMemoryBytes: 23.53 * GIB, gpuMemoryUtilization: 0.9 };
    expect(fit(model, off, vllm, budget).availableKvBytes - fit(model, dep, vllm, budget).availableKvBytes).toBeCloseTo(4 * GIB, -3);
    // Never more than the decoder layers hold.
    expect(vllmWeightsPerRank(model, { ...dep, options: { cpuOffloadGiB: 1000 } })[0]).toBeGreaterThan(0);
  });

  it("the offloaded layers run at the host link's bandwidth: a decode step slows by about the offloaded bytes over PCIe", () => {
    const gpu = placementDevice(findDevice("h100-pcie-80gb"));
    const link = pcieBytesPerSecond(5);
    expect(link / 1e9).toBeCloseTo(63.02, 2);
    const segs = vllmOffloadSegments(model, off, gpu, link);
    // 4 GiB over 0.41 GiB bf16 layers: the first 10 layers are (partly) in host memory.
    expect(segs.map((s) => [s.from, s.to])).toEqual([[0, 10], [10, 32]]);
    const t = compileSpeed(model, off, vllm);
    const req = { prompt: 0, gen: 128, seqs: 1 };
    const base = speedOf(compileSpeed(model, dep, vllm), gpu, req).decodeTokensPerSecond!;
    const slow = speedOfSegments(t, segs, req).decodeTokensPerSecond!;
    console.log(`vLLM Llama-3.1-8B bf16 on h100-pcie-80gb: decode ${base.toFixed(1)} t/s; --cpu-offload-gb 4 over PCIe 5 x16: ${slow.toFixed(1)} t/s`);
    expect(slow).toBeLessThan(base / 3);
    // At least the offloaded bytes at the full link rate, per token.
    expect(1 / slow - 1 / base).toBeGreaterThan((4 * GIB) / link);
  });

  it("is vLLM's flag: other engines refuse it with one line, exit 2", () => {
    const j = runCliJson(["plan", "--model", id, "--engine", "vllm", "--context", "8192", "--cpu-offload-gb", "4"]);
    const base = runCliJson(["plan", "--model", id, "--engine", "vllm", "--context", "8192"]);
    expect(base.memory.weightsBytes - j.memory.weightsBytes).toBeCloseTo(4 * GIB, -1);
    const r = runCli(["plan", "--model", id, "--engine", "llama.cpp", "--context", "8192", "--cpu-offload-gb", "4"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
