// The one capacity answer (lib/calc deviceCapacity) and what the engines refuse, in Node: the same figures the CLI
// prints, the engine's own wording for what it would not start (vLLM's, quoted from vllm/config/model.py).
import { describe, expect, it } from "vitest";
import { deviceCapacity, fit, makeDeployment, modelFromHfConfig, plan, schemeApplies } from "../lib/calc/index.js";
import { engineDevice } from "../lib/fleet/devices.js";
import { catalogConfig, catalogEntries } from "../loaders/catalog.js";
import { engine } from "../plugins/engines.js";
import { runCli, runCliJson } from "./helpers/cli.js";

const modelOf = (slug: string) => {
  const e = catalogEntries().find((x) => x.slug === slug)!;
  return modelFromHfConfig(catalogConfig(e), e.id);
};
const llama = modelOf("llama-3.1-8b-instruct");
const LLAMA = "meta-llama/Llama-3.1-8B-Instruct";

describe("deviceCapacity", () => {
  it("is the engine's own fit on the memory the device's runtime reports, with the device in the deployment", () => {
    const d = engineDevice("rtx-4090");
    for (const id of ["vllm", "llama.cpp", "mlx", "transformers"]) {
      const dep = makeDeployment(llama, { engine: engine(id), context: 8192 });
      const c = deviceCapacity(llama, dep, engine(id), d);
      const f = fit(llama, { ...dep, options: { device: d } }, engine(id), { gpuMemoryBytes: d.memoryBytes });
      expect([id, c.kvCapacityTokens, c.maxContext]).toEqual([id, f.kvCapacityTokens, f.maxContext]);
      expect(c.maxSeqs).toBe(Math.floor(f.maxConcurrency));
      expect(c.fits).toBe(c.maxContext >= 8192 && c.maxSeqs >= 1);
    }
  });

  it("vLLM keeps gpu_memory_utilization back, llama.cpp does not: fewer tokens on the same card", () => {
    const d = engineDevice("rtx-4090");
    const v = deviceCapacity(llama, makeDeployment(llama, { engine: engine("vllm"), context: 8192 }), engine("vllm"), d);
    const l = deviceCapacity(llama, makeDeployment(llama, { engine: engine("llama.cpp"), context: 8192 }), engine("llama.cpp"), d);
    expect(v.kvCapacityTokens).toBeLessThan(l.kvCapacityTokens);
  });

  it("weights alone past the memory: nothing fits, under every engine", () => {
    const d = engineDevice("rtx-3060-12gb");
    const big = modelOf("llama-3.1-70b-instruct");
    for (const id of ["vllm", "llama.cpp", "mlx", "transformers"]) {
      const c = deviceCapacity(big, makeDeployment(big, { engine: engine(id), context: 4096 }), engine(id), d);
      expect([id, c.maxContext, c.kvCapacityTokens, c.fits]).toEqual([id, 0, 0, false]);
    }
  });

  it("`fit --device` prints it, and takes each engine's own utilization default", () => {
    const v = runCliJson(["fit", "--model", LLAMA, "--engine", "vllm", "--device", "rtx-4090", "--context", "8192", "--json"]);
    const c = deviceCapacity(llama, makeDeployment(llama, { engine: engine("vllm"), context: 8192 }), engine("vllm"), engineDevice("rtx-4090"));
    expect([v.kvCapacityTokens, v.maxContext, v.maxSeqs]).toEqual([c.kvCapacityTokens, c.maxContext, c.maxSeqs]);
    expect(v.basis[0]).toMatch(/^device: /);
  });
});

describe("what the engine would refuse", () => {
  it("plan warns about a context over the model's limit in vLLM's words; fit refuses it: exit 2, one line", () => {
    const p = runCliJson(["plan", "--model", LLAMA, "--engine", "vllm", "--context", "10000000", "--json"]);
    expect(p.warnings.join("\n")).toContain("User-specified max_model_len (10000000) is greater than the derived max_model_len (max_position_embeddings=131072");
    const f = runCli(["fit", "--model", LLAMA, "--engine", "vllm", "--context", "10000000", "--device", "h100-sxm-80gb"]);
    expect(f.code).toBe(2);
    expect(f.stderr.trim().split("\n")).toHaveLength(1);
    expect(f.stderr).toContain("VLLM_ALLOW_LONG_MAX_MODEL_LEN=1");
    // llama.cpp starts anyway (it only logs n_ctx_seq > n_ctx_train): plan warns, fit answers.
    const lp = plan(llama, makeDeployment(llama, { engine: engine("llama.cpp"), context: 200_000 }), engine("llama.cpp"));
    expect(lp.warnings.some((w) => /over .*trained context of 131072/.test(w))).toBe(true);
    expect(runCli(["fit", "--model", LLAMA, "--engine", "llama.cpp", "--context", "200000", "--device", "h100-sxm-80gb"]).code).toBe(0);
  });

  it("TP that does not divide the heads: vLLM's own message, plan and fit alike", () => {
    for (const cmd of ["plan", "fit"]) {
      const r = runCli([cmd, "--model", LLAMA, "--engine", "vllm", "--context", "8192", "--tp", "3", "--device", "h100-sxm-80gb"]);
      expect([cmd, r.code]).toEqual([cmd, 2]);
      expect(r.stderr.trim()).toBe("hwledger: vLLM refuses --tp 3: Total number of attention heads (32) must be divisible by tensor parallel size (3).");
    }
  });
});

describe("which weight schemes apply", () => {
  it("n/a where the scheme quantizes nothing of the model or the checkpoint is published quantized", () => {
    expect(schemeApplies(llama, "mxfp4")).toMatchObject({ applies: false, why: expect.stringMatching(/quantizes no tensor/) });
    expect(schemeApplies(llama, "awq").applies).toBe(true);
    expect(schemeApplies(llama, "Q4_K_M").applies).toBe(true);
    const oss = modelOf("gpt-oss-120b");
    expect(schemeApplies(oss, "awq")).toMatchObject({ applies: false, why: expect.stringMatching(/published in mxfp4/) });
    for (const w of ["mxfp4", "bf16", "Q4_K_M", "mlx-4bit"]) expect([w, schemeApplies(oss, w).applies]).toEqual([w, true]);
  });
});
