// Speed of a partly offloaded llama.cpp model: the -ngl placement's segments (host layers at the catalog CPU's
// figures) through lib/calc's speedOfSegments, and the CLI's `speed --gpu-layers N --host CPU`.
import { describe, expect, it } from "vitest";
import { compileSpeed, makeDeployment, segmentSeconds, speedOf, speedOfSegments } from "../../lib/calc/index.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { findDevice } from "../../lib/fleet/devices.js";
import { offloadSegments } from "../../plugins/engine-llamacpp/index.js";
import { engine } from "../../plugins/engines.js";
import { resolveModel } from "../../loaders/models.js";
import { runCliJson } from "../helpers/cli.js";

describe("llama.cpp speed with host layers", () => {
  it("segments follow load_tensors: host layers 0..i_gpu_start−1, the GPU the rest and the output; seconds add up", async () => {
    const { model } = await resolveModel("Qwen/Qwen3-8B", { offline: true });
    const n = model.layers.length;
    const gpu = placementDevice(findDevice("rtx-4090"));
    const host = placementDevice(findDevice("ryzen-9-7950x", { hosts: true }));
    const dep = makeDeployment(model, { engine: engine("llama.cpp"), weights: "Q4_K_M", context: 4096, options: { gpuLayers: 20 } });
    const segs = offloadSegments(n, dep, [gpu], host);
    expect(segs.map((s) => [s.device === host ? "host" : s.device === gpu ? "gpu" : "?", s.from, s.to, s.output])).toEqual([["host", 0, n + 1 - 20, false], ["gpu", n + 1 - 20, n, true]]);
    const t = compileSpeed(model, dep, engine("llama.cpp"));
    const req = { prompt: 512, gen: 128, seqs: 1 };
    const parts = segs.map((s) => segmentSeconds(t, s, req));
    const r = speedOfSegments(t, segs, req);
    expect(r.decodeTokensPerSecond).toBeCloseTo(1 / (parts[0].decode! + parts[1].decode!), 9);
    // All layers on the GPU: one segment, the same as speedOf; host layers only slow it down.
    const all = offloadSegments(n, { ...dep, options: {} }, [gpu], host);
    expect(all).toHaveLength(1);
    expect(speedOfSegments(t, all, req).decodeTokensPerSecond).toBeCloseTo(speedOf(t, gpu, req).decodeTokensPerSecond!, 9);
    expect(r.decodeTokensPerSecond!).toBeLessThan(speedOf(t, gpu, req).decodeTokensPerSecond!);
  });

  it("hwledger speed --gpu-layers N --host CPU: fewer GPU layers, slower decode", () => {
    const at = (ngl: string) => (runCliJson(["speed", "--model", "Qwen/Qwen3-8B", "--engine", "llama.cpp", "--weights", "Q4_K_M", "--device", "rtx-4090", "--host", "ryzen-9-7950x", "--gpu-layers", ngl, "--prompt", "0", "--gen", "128"]) as { decodeTokensPerSecond: number }).decodeTokensPerSecond;
    const [full, half, none] = ["37", "18", "1"].map(at);
    expect(full).toBeGreaterThan(half);
    expect(half).toBeGreaterThan(none);
  }, 60_000);
});
