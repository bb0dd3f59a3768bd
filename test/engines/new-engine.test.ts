// What a new engine needs (docs/architecture.md "Adding an engine"): one object implementing the contract. A toy
// engine defined here, handed to an injected registry, goes through plan, fit, export, dispatch and split without any
// other file knowing its name.
import { describe, expect, it } from "vitest";
import type { DeviceCompute } from "../../lib/calc/index.js";
import { assumedKernels, InputError, fit, kvElemsPerToken, makeDeployment, modelFromHfConfig, plan, tokensKept } from "../../lib/calc/index.js";
import type { DeploymentShape, EngineTable, ModelSpec } from "../../lib/calc/index.js";
import { dispatchCandidates } from "../../lib/fleet/candidates.js";
import { dispatch } from "../../lib/fleet/dispatch.js";
import { planSplit } from "../../lib/fleet/split.js";
import { exported } from "../../plugins/engine-contract.js";
import type { EnginePlugin } from "../../plugins/engine-contract.js";
import { ENGINES, exportCommands, makeEngineRegistry } from "../../plugins/engines.js";

const GIB = 1024 ** 3;

/** Toy memory rules: every cached token in 2-byte K and V, a 64 MiB activation buffer, a 1 GiB runtime. */
function compileToy(model: ModelSpec, shape: DeploymentShape): EngineTable {
  if (shape.kvDtypeK !== "f16" || shape.kvDtypeV !== "f16") throw new InputError("toy caches in f16 only");
  const perLayer = (context: number, seqs: number) =>
    model.layers.map((l) => {
      const e = kvElemsPerToken(l.cache, "latent");
      return (e.k + e.v) * 2 * tokensKept(l.cache, context) * seqs;
    });
  return {
    kvBytes: (c, s) => perLayer(c, s).reduce((a, b) => a + b, 0),
    kvPerLayer: perLayer,
    kvBytesPerToken: () => perLayer(1, 1).reduce((a, b) => a + b, 0),
    activationBytes: () => 64 * 1024 ** 2,
    overheadBytes: () => GIB,
    cacheBasis: ["toy: every token, f16"],
    activationBasis: "toy: 64 MiB",
    overheadBasis: "toy: 1 GiB",
    warnings: [],
  };
}

const toy: EnginePlugin = {
  kind: "engine",
  name: "engine-toy",
  version: "0.0.1",
  description: "a toy engine for the contract test",
  id: "toy",
  label: "Toy",
  aliases: ["toy-engine"],
  loadsVision: true,
  defaults: { kvDtype: "f16" },
  compile: compileToy,
  speed: { kernels: (device) => assumedKernels(device, { bandwidth: 0.5, compute: 0.3, ubatch: 512, basis: "toy: assumed fractions" }) },
  usableBytes: (memoryBytes) => memoryBytes / 2,
  defaultFor: ["cpu"],
  pipelineOrder: (devices) => [...devices].reverse(),
  embedding: { home: "first-stage" },
  pipelineCommands: { key: "toy", build: (model, dep, devices) => [`toy-serve ${model.id} --stages ${devices.length} --ctx ${dep.context}`] },
  exportCommands: (modelId, dep) => [exported("toy", ["toy-serve", modelId, "--ctx", String(dep.context), "--seqs", String(dep.seqs)])],
};

// 4 layers, 2 KV heads × 64 dims: (128 + 128) × 2 bytes = 512 bytes per token per layer, 2048 for the model.
const model = modelFromHfConfig({ model_type: "llama", hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 512, vocab_size: 1000, max_position_embeddings: 65536, torch_dtype: "bfloat16" }, "tiny/llama");

// A CPU's figures as the speed model reads them (the toy's kernels need an FP32 rate).
const CPU_COMPUTE: DeviceCompute = { vendor: "other", kernelFamily: "cpu", memoryClass: "ddr", alu: 1e12, dies: 1, missing: {} };

describe("a new engine is one object and one registry line", () => {
  const reg = makeEngineRegistry([toy, ...ENGINES]);
  const e = reg.parseEngine("Toy-Engine");

  it("plans", () => {
    const p = plan(model, makeDeployment(model, { engine: e, context: 1000, seqs: 2 }), e);
    expect(p.memory.kvCacheBytes).toBe(2048 * 1000 * 2);
    expect(p.memory.overheadBytes).toBe(GIB);
    expect(p.kv.bytesPerToken).toBe(2048);
    expect(p.basis).toContain("overhead: toy: 1 GiB");
  });

  it("fits (the generic rule over its compiled plan)", () => {
    const r = fit(model, makeDeployment(model, { engine: e, context: 1000 }), e, { kvBudgetBytes: 2048 * 5000 });
    expect(r.kvCapacityTokens).toBe(5000);
    expect(r.maxContext).toBe(5000);
  });

  it("exports its own command beside the others", () => {
    const r = exportCommands(model.id, makeDeployment(model, { engine: e, context: 4096, seqs: 3 }), undefined, reg.ENGINES);
    expect(r.commands[0]).toEqual({ engine: "toy", argv: ["toy-serve", "tiny/llama", "--ctx", "4096", "--seqs", "3"], command: "toy-serve tiny/llama --ctx 4096 --seqs 3" });
    expect(r.commands.map((c) => c.engine)).toContain("vllm");
  });

  it("dispatch picks it for the device class it claims and uses its usable memory", () => {
    const base = makeDeployment(model, { engine: reg.engine("vllm"), weights: "bf16", context: 1000 });
    const cpu = { id: "box", name: "a CPU box", memoryBytes: 8 * GIB, bandwidthBytesPerSecond: 50e9, deviceClass: "cpu" as const, compute: CPU_COMPUTE, host: "h" };
    const candidates = dispatchCandidates({ catalog: [], fleet: [cpu], offers: [], purchases: [], base, engines: reg.ENGINES, fixedEngine: false, spot: false, lifespanYears: 4, utilization: 0.5, electricityPerKwh: 0.2 });
    expect(candidates.map((c) => c.engine)).toEqual(["toy"]);
    const r = dispatch(model, base, { context: 1000, seqs: 1, tokens: 100 }, candidates, reg.ENGINES);
    expect(r.candidates[0].engine).toBe("toy");
    expect(r.candidates[0].fit.capacityBytes).toBe(4 * GIB);
  });

  it("splits in its own pipeline order with its own commands", () => {
    const dep = makeDeployment(model, { engine: e, weights: "bf16", context: 1000 });
    const dev = (id: string) => ({ id, name: id, memoryBytes: 8 * GIB, bandwidthBytesPerSecond: 100e9, deviceClass: "cpu" as const, compute: CPU_COMPUTE });
    const s = planSplit(model, dep, [dev("a"), dev("b")], reg.ENGINES);
    expect(s.assignments.map((a) => a.device)).toEqual(["b", "a"]);
    expect(s.commands.toy).toEqual(["toy-serve tiny/llama --stages 2 --ctx 1000"]);
  });
});
