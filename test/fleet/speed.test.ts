// The speed model's arithmetic on hand-checkable models, the per-segment composition (speed with offload), MoE expert
// traffic, per-device calibration from a real ledger, and `hwledger speed` naming a missing figure. Accuracy on
// published results is test/evidence/speed-held-out.test.ts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendEvents } from "../../lib/ledger/index.js";
import { calibrate, compileSpeed, decodeWeightBytes, makeDeployment, segmentSeconds, speed, speedOf, speedOfSegments } from "../../lib/calc/index.js";
import type { DeviceCaps, Kernels, ModelSpec } from "../../lib/calc/index.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { catalogDevices, findDevice, hostDevices } from "../../lib/fleet/devices.js";
import { makeEvent } from "../../lib/fleet/events.js";
import { runCli, runCliJson } from "../helpers/cli.js";
import { GIB, paperModel } from "./model-fixtures.js";
import { engine } from "../../plugins/engines.js";

const gpu = placementDevice(findDevice("rtx-4090"));
const llama = engine("llama.cpp");

describe("speed model arithmetic", () => {
  it("a decode step adds its terms: streamed bytes, dequantization ALU work, fixed per-layer cost", () => {
    const m = paperModel(10, 1);
    const dep = makeDeployment(m, { engine: llama, context: 1024, weights: "bf16" });
    const k = llama.speed.kernels(gpu, dep) as Kernels;
    const params = (10 * GIB) / 2;
    const step = (10 * GIB) / (gpu.bandwidthBytesPerSecond * k.bandwidthFraction) + (k.opsPerWeight * params) / k.aluFlops + 10 * k.layerSeconds;
    const r = speed(m, dep, llama, gpu, { prompt: 0, gen: 128, seqs: 1 });
    expect(r.decodeTokensPerSecond).toBeCloseTo(1 / step, 6);
    expect(r.calibrated).toBe(false);
    expect(r.prefillTokensPerSecond).toBeNull();
  });

  it("a prompt costs 2 FLOPs per parameter per token at the kernel family's rate, plus one weight pass per micro-batch", () => {
    const m = paperModel(10, 1);
    const dep = makeDeployment(m, { engine: llama, context: 4096, weights: "bf16" });
    const k = llama.speed.kernels(gpu, dep) as Kernels;
    const params = (10 * GIB) / 2;
    const t = (2 * params * 4096) / k.matmulFlops + (8 * 10 * GIB) / gpu.bandwidthBytesPerSecond;
    expect(speed(m, dep, llama, gpu, { prompt: 4096, gen: 0, seqs: 1 }).prefillTokensPerSecond).toBeCloseTo(4096 / t, 3);
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
});

describe("speed with segments (GPU layers + host layers)", () => {
  const m = paperModel(10, 1, 1);
  const dep = makeDeployment(m, { engine: llama, context: 4096, weights: "Q4_0" });
  const t = compileSpeed(m, dep, llama);
  const req = { prompt: 512, gen: 128, seqs: 1 };

  it("one device as two segments is the same as one segment: times add per token", () => {
    const whole = speedOf(t, gpu, req);
    const split = speedOfSegments(t, [{ device: gpu, from: 0, to: 4, output: false }, { device: gpu, from: 4, to: 10, output: true }], req);
    expect(split.decodeTokensPerSecond).toBeCloseTo(whole.decodeTokensPerSecond!, 9);
    expect(split.prefillTokensPerSecond).toBeCloseTo(whole.prefillTokensPerSecond!, 9);
  });

  it("layers moved to a slower device (host RAM) slow decode by exactly their seconds there", () => {
    const host = placementDevice(findDevice("m1-8c-16gb"));
    const a = segmentSeconds(t, { device: gpu, from: 0, to: 6, output: true }, req);
    const b = segmentSeconds(t, { device: host, from: 6, to: 10, output: false }, req);
    const r = speedOfSegments(t, [{ device: gpu, from: 0, to: 6, output: true }, { device: host, from: 6, to: 10, output: false }], req);
    expect(r.decodeTokensPerSecond).toBeCloseTo(1 / (a.decode! + b.decode!), 9);
    expect(r.decodeTokensPerSecond!).toBeLessThan(speedOf(t, gpu, req).decodeTokensPerSecond!);
    expect(r.basis.some((x) => x.startsWith("layers 6–9: "))).toBe(true);
  });

  it("a segment on a device without the figure its kernels need names that figure", () => {
    const noAlu: DeviceCaps = { ...gpu, compute: { ...gpu.compute!, alu: undefined, missing: { alu: "no cited FP32 rate" } } };
    const r = speedOfSegments(t, [{ device: gpu, from: 0, to: 5, output: false }, { device: noAlu, from: 5, to: 10, output: true }], req);
    expect(r.decodeTokensPerSecond).toBeNull();
    expect(r.missing).toBe("the ALU (FP32) rate is missing (no cited FP32 rate)");
  });
});

describe("calibration per engine × device", () => {
  it("reproduces a single measured run exactly", () => {
    const m = paperModel(10, 1);
    const dep = makeDeployment(m, { engine: llama, context: 1024 });
    const cal = calibrate([{ model: m, dep, device: gpu, deviceId: "rtx-4090", req: { prompt: 0, gen: 128, seqs: 1 }, decodeTokensPerSecond: 50 }], llama, "rtx-4090");
    expect(cal.calibrated).toBe(true);
    expect(speed(m, dep, llama, gpu, { prompt: 0, gen: 128, seqs: 1 }, cal).decodeTokensPerSecond).toBeCloseTo(50, 6);
    // Another device is not calibrated by it.
    expect(calibrate([{ model: m, dep, device: gpu, deviceId: "rtx-4090", req: { prompt: 0, gen: 128, seqs: 1 }, decodeTokensPerSecond: 50 }], llama, "rtx-3090").runs).toBe(0);
  });

  it("hwledger speed uses measured runs of the same engine on the same device and says it is calibrated", async () => {
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
    expect(after.basis.join(" ")).toMatch(/calibrated from 1 decode and 0 prefill measurement\(s\) of llama.cpp on rtx-4090/);
    expect(runCliJson([...args, "--ledger", dir, "--no-calibrate"]).calibrated).toBe(false);
    // The same engine on another device stays uncalibrated.
    expect(runCliJson([...args.map((a) => (a === "rtx-4090" ? "rtx-3090" : a)), "--ledger", dir]).calibrated).toBe(false);
  });
});

/**
 * Catalog devices llama.cpp cannot predict for, each with the reason its compute.json `missing` gives. Empty since the
 * A10G and EPYC 9654 got cited figures; a device added without the figures its kernels need fails below until it is
 * listed here with that reason.
 */
const NO_LLAMACPP_SPEED: Record<string, string> = {};

describe("hwledger speed on every catalog device", () => {
  it("llama.cpp predicts prefill and decode on every catalog device (CPUs included), or the device is listed with the reason from `missing`", () => {
    const predicted: string[] = [];
    const refused: Record<string, string> = {};
    for (const d of [...catalogDevices(), ...hostDevices()]) {
      const r = speed(...speedArgs(d.id));
      if (r.missing) refused[d.id] = r.missing;
      else {
        expect(r.prefillTokensPerSecond, d.id).toBeGreaterThan(0);
        expect(r.decodeTokensPerSecond, d.id).toBeGreaterThan(0);
        predicted.push(d.id);
      }
    }
    console.log(`speed: ${predicted.length} of ${predicted.length + Object.keys(refused).length} catalog devices (CPUs included) predicted by llama.cpp; refused: ${JSON.stringify(refused)}`);
    expect(Object.keys(refused).sort()).toEqual(Object.keys(NO_LLAMACPP_SPEED).sort());
    for (const [id, reason] of Object.entries(NO_LLAMACPP_SPEED)) {
      expect(refused[id], id).toContain(reason);
      expect(Object.values(findDevice(id, { hosts: true }).compute.missing), id).toContain(reason);
    }
  });

  it("the A10G and the EPYC 9654 (figures derived from cited inputs) get a prediction from the CLI; dispatch ranks A10G offers and offloads to the EPYC", () => {
    const args = (device: string) => ["speed", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--engine", "llama.cpp", "--device", device, "--weights", "Q4_K_M", "--prompt", "512", "--gen", "128"];
    for (const device of ["a10g", "epyc-9654"]) {
      const r = runCliJson(args(device));
      expect(r.missing, device).toBeUndefined();
      expect(r.prefillTokensPerSecond, device).toBeGreaterThan(0);
      expect(r.decodeTokensPerSecond, device).toBeGreaterThan(0);
    }
    // 70B Q4_K_M (about 40 GiB) does not fit one 24 GiB A10G: with the EPYC as host, llama.cpp offloads layers to its RAM.
    const d = runCliJson(["dispatch", "--model", "meta-llama/Llama-3.1-70B-Instruct", "--engine", "llama.cpp", "--weights", "Q4_K_M", "--context", "4096", "--tokens", "1000", "--prompt", "512", "--host", "epyc-9654", "--no-record"]);
    expect(d.rejected.filter((x: { reason: string }) => /speed estimate/.test(x.reason))).toEqual([]);
    const a10g = d.candidates.filter((c: { device: string }) => c.device === "a10g");
    expect(a10g.length).toBeGreaterThan(0);
    for (const c of a10g) expect(c.offload?.host, c.id).toBe("epyc-9654");
  });

  it("a device the engine cannot run on is refused in one line with exit 2, naming why", () => {
    const r = runCli(["speed", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--engine", "vllm", "--device", "m2-max-38c-96gb", "--weights", "bf16"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/m2-max-38c-96gb: no vllm speed prediction: vLLM has no Metal backend/);
  });
});

let speedModel: ModelSpec | undefined;
function speedArgs(id: string): Parameters<typeof speed> {
  speedModel ??= paperModel(32, 0.25, 0.5);
  const dep = makeDeployment(speedModel, { engine: llama, context: 640, weights: "Q4_K_M" });
  return [speedModel, dep, llama, placementDevice(findDevice(id, { hosts: true })), { prompt: 512, gen: 128, seqs: 1 }];
}

describe("each engine owns its speed part", () => {
  const m = paperModel(32, 0.25, 0.5);
  const mac = placementDevice(findDevice("m3-max-40c-64gb"));
  it("MLX is llama.cpp's Metal model scaled by the one same-device comparison (mlx-examples#1029: ×1.12 decode, ×1.14 prefill)", () => {
    const req = { prompt: 512, gen: 128, seqs: 1 };
    const mlx = engine("mlx");
    const a = speed(m, makeDeployment(m, { engine: mlx, context: 640, weights: "mlx-4bit", options: { prefillStepSize: 512 } }), mlx, mac, req);
    const b = speed(m, makeDeployment(m, { engine: llama, context: 640, weights: "Q4_0" }), llama, mac, req);
    expect(a.basis.join(" ")).toMatch(/mlx-examples#1029/);
    // Same kernels, MLX's 4-bit groups are a little larger than Q4_0's blocks: within a few percent of the ratio.
    expect(a.decodeTokensPerSecond! / b.decodeTokensPerSecond!).toBeGreaterThan(1.12 * 0.97);
    expect(a.decodeTokensPerSecond! / b.decodeTokensPerSecond!).toBeLessThan(1.12 * 1.03);
    expect(speed(m, makeDeployment(m, { engine: mlx, context: 640, weights: "mlx-4bit" }), mlx, gpu, req).missing).toBe("MLX runs on Apple silicon only");
  });

  it("vLLM says its constants are assumptions and that it has no Metal backend", () => {
    const vllm = engine("vllm");
    const dep = makeDeployment(m, { engine: vllm, context: 640 });
    const r = speed(m, dep, vllm, gpu, { prompt: 512, gen: 128, seqs: 1 });
    expect(r.basis.join(" ")).toMatch(/vLLM \(assumptions, no vLLM result kept\)/);
    expect(r.prefillTokensPerSecond).toBeGreaterThan(0);
    expect(speed(m, dep, vllm, mac, { prompt: 512, gen: 128, seqs: 1 }).missing).toMatch(/no Metal backend/);
  });
});
