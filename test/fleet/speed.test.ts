// The speed model: a hand-checkable roofline, MoE expert traffic, and calibration from a real ledger.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendEvents } from "../../lib/ledger/index.js";
import { calibrate, decodeWeightBytes, makeDeployment, speed } from "../../lib/calc/index.js";
import type { DeviceCaps, ModelSpec } from "../../lib/calc/index.js";
import { makeEvent } from "../../lib/fleet/events.js";
import { runCliJson } from "../helpers/cli.js";
import { GIB, paperModel } from "./model-fixtures.js";
import { engine } from "../../plugins/engines.js";

const gpu: DeviceCaps = { bandwidthBytesPerSecond: 1000e9, flops16: 100e12, deviceClass: "cuda" };

describe("speed roofline", () => {
  it("decode reads every weight once per step: 10 GiB at 1000 GB/s × 0.8 = 74.5 tok/s", () => {
    const m = paperModel(10, 1);
    const r = speed(m, makeDeployment(m, { engine: engine("llama.cpp"), context: 1024 }), engine("llama.cpp"), gpu, { prompt: 0, gen: 128, seqs: 1 });
    expect(r.decodeTokensPerSecond).toBeCloseTo(800e9 / (10 * GIB), 6);
    expect(r.calibrated).toBe(false);
    expect(r.prefillTokensPerSecond).toBeNull();
  });

  it("prefill is compute-bound: 2 FLOPs per parameter per token at 100 TFLOP/s × 0.5", () => {
    const m = paperModel(10, 1);
    const params = (10 * GIB) / 2;
    const r = speed(m, makeDeployment(m, { engine: engine("llama.cpp"), context: 4096 }), engine("llama.cpp"), gpu, { prompt: 4096, gen: 0, seqs: 1 });
    expect(r.prefillTokensPerSecond).toBeCloseTo(50e12 / (2 * params), 3);
  });

  it("MoE: a batch touches E·(1 − (1 − k/E)^n) experts", () => {
    const base = paperModel(1, 1);
    const m: ModelSpec = {
      ...base,
      layers: [{ index: 0, kind: "moe", cache: { kind: "none" }, moe: { experts: 8, activeExperts: 2, sharedExperts: 0 }, tensors: [{ name: "blk.0.ffn_up_exps", shape: [1024, GIB / 2 / 1024 / 8, 8], role: "expert" }] }],
    };
    expect(decodeWeightBytes(m, "bf16", 1)).toBeCloseTo((GIB * 2) / 8, 0);
    expect(decodeWeightBytes(m, "bf16", 4)).toBeCloseTo(GIB * (1 - Math.pow(0.75, 4)), 0);
  });

  it("calibration refits the efficiency so a measured run is reproduced", () => {
    const m = paperModel(10, 1);
    const dep = makeDeployment(m, { engine: engine("llama.cpp"), context: 1024 });
    const eff = calibrate([{ model: m, dep, device: gpu, req: { prompt: 0, gen: 128, seqs: 1 }, decodeTokensPerSecond: 50 }], engine("llama.cpp"), "cuda");
    expect(eff.calibrated).toBe(true);
    expect(speed(m, dep, engine(dep.engine), gpu, { prompt: 0, gen: 128, seqs: 1 }, eff).decodeTokensPerSecond).toBeCloseTo(50, 6);
  });
});

describe("hwledger speed with a ledger", () => {
  it("uses measured runs of the same engine × device class and says it is calibrated", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hwl-speed-"));
    const args = ["speed", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--engine", "llama.cpp", "--device", "rtx-4090", "--prompt", "0", "--gen", "128", "--weights", "bf16", "--context", "128"];
    const before = runCliJson([...args, "--ledger", dir]);
    expect(before.calibrated).toBe(false);
    const measured = before.decodeTokensPerSecond * 0.8;
    await appendEvents(dir, [
      makeEvent("job_planned", { jobId: "j1", engine: "llama.cpp", model: "meta-llama/Llama-3.1-8B-Instruct", deployment: { engine: "llama.cpp", weights: "bf16", context: 128, seqs: 1 }, plan: {}, deviceCatalogId: "rtx-4090", request: { prompt: 0, gen: 128 } }, { host: "h" }),
      makeEvent("job_completed", { jobId: "j1", actual: { decodeTokensPerSecond: measured }, durationS: 3 }, { host: "h" }),
    ]);
    const after = runCliJson([...args, "--ledger", dir]);
    expect(after.calibrated).toBe(true);
    expect(after.decodeTokensPerSecond).toBeCloseTo(measured, 3);
    expect(after.basis.join(" ")).toMatch(/calibrated from 1 decode/);
    expect(runCliJson([...args, "--ledger", dir, "--no-calibrate"]).calibrated).toBe(false);
  });
});
