// hwledger speed --engine vllm --cpu-offload-gb: the offloaded layers at the device's cited host link
// (data/devices/host-link.json), the rest at the GPU's bandwidth. No measured vLLM run with --cpu-offload-gb exists in
// data/evidence (the only log naming CPU offload is LMCache's KV offload, without throughput), so these tests hold the
// CLI to the arithmetic of the rule and to the cited links, not to a measured speed.
import { describe, expect, it } from "vitest";
import { compileSpeed, makeDeployment, modelFromHfConfig, pcieBytesPerSecond, speedOfSegments } from "../../lib/calc/index.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { engineDevice, findDevice } from "../../lib/fleet/devices.js";
import { catalogConfig, findCatalogEntry } from "../../loaders/catalog.js";
import { vllmOffloadSegments } from "../../plugins/engine-vllm/index.js";
import { engine } from "../../plugins/engines.js";
import { runCli, runCliJson } from "../helpers/cli.js";

const id = "meta-llama/Llama-3.1-8B-Instruct";
const args = (device: string, extra: string[] = []) => ["speed", "--model", id, "--engine", "vllm", "--device", device, "--prompt", "0", "--gen", "128", "--no-calibrate", ...extra];
type Speed = { decodeTokensPerSecond: number; basis: string[] };

describe("speed --engine vllm --cpu-offload-gb", () => {
  // A100 PCIe: PCIe 4 x16; H100 PCIe: PCIe 5 x16 (each cited in data/devices/host-link.json).
  const gen4 = "a100-pcie-80gb";
  const gen5 = "h100-pcie-80gb";

  it("reads each device's cited link: decode slower with offload, slower over Gen4 than Gen5, equal to the segments' arithmetic", () => {
    const link4 = findDevice(gen4).hostLink;
    const link5 = findDevice(gen5).hostLink;
    expect(link4).toMatchObject({ pcieGen: 4, pcieLanes: 16 });
    expect(link5).toMatchObject({ pcieGen: 5, pcieLanes: 16 });
    const on4 = runCliJson<Speed>(args(gen4, ["--cpu-offload-gb", "4"]));
    const on5 = runCliJson<Speed>(args(gen5, ["--cpu-offload-gb", "4"]));
    const off4 = runCliJson<Speed>(args(gen4));
    const off5 = runCliJson<Speed>(args(gen5));
    expect(on4.decodeTokensPerSecond).toBeLessThan(off4.decodeTokensPerSecond);
    expect(on5.decodeTokensPerSecond).toBeLessThan(off5.decodeTokensPerSecond);
    expect(on4.decodeTokensPerSecond).toBeLessThan(on5.decodeTokensPerSecond);

    // The same figure from the rule's parts: vLLM's segments at the link rate PCIe gen × lanes gives.
    const model = modelFromHfConfig(catalogConfig(findCatalogEntry(id)!), id);
    for (const [dev, got] of [[gen4, on4], [gen5, on5]] as const) {
      const d = findDevice(dev);
      const link = d.hostLink as { pcieGen: 4 | 5; pcieLanes: number };
      const dep = makeDeployment(model, { engine: engine("vllm"), context: 128, seqs: 1, options: { device: engineDevice(dev), cpuOffloadGiB: 4 } });
      const segs = vllmOffloadSegments(model, dep, placementDevice(d), pcieBytesPerSecond(link.pcieGen, link.pcieLanes));
      expect(segs.map((s) => [s.from, s.to])).toEqual([[0, 10], [10, 32]]);
      const want = speedOfSegments(compileSpeed(model, dep, engine("vllm")), segs, { prompt: 0, gen: 128, seqs: 1 }).decodeTokensPerSecond!;
      expect(got.decodeTokensPerSecond).toBeCloseTo(want, 6);
    }
    // Basis: the link's rate and that the figure is an estimate not checked on held-out runs.
    expect(on4.basis[0]).toMatch(/PCIe 4 x16: 31\.51 GB\/s per direction/);
    expect(on5.basis[0]).toMatch(/PCIe 5 x16: 63\.02 GB\/s per direction/);
    expect(on5.basis[1]).toMatch(/host link's rate.*not validated on held-out runs/);
    console.log(`vLLM Llama-3.1-8B bf16 decode, --cpu-offload-gb 4: ${gen4} ${off4.decodeTokensPerSecond.toFixed(1)} -> ${on4.decodeTokensPerSecond.toFixed(1)} t/s; ${gen5} ${off5.decodeTokensPerSecond.toFixed(1)} -> ${on5.decodeTokensPerSecond.toFixed(1)} t/s`);
  });

  it("text output names the link in its basis lines", () => {
    const r = runCli(args(gen5, ["--cpu-offload-gb", "4"]));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/basis: --cpu-offload-gb 4: layers 0-9 \(10 of 32\).*PCIe 5 x16/);
  });

  it.each([
    [[gen5, "--cpu-offload-gb", "abc"], /--cpu-offload-gb must be a number/],
    [[gen5, "--cpu-offload-gb", "-1"], /--cpu-offload-gb must be positive/],
    [["rtx-4080", "--cpu-offload-gb", "4"], /rtx-4080: --cpu-offload-gb needs the device's host link figure.*missing/],
    [["m2-max-38c-96gb", "--cpu-offload-gb", "4"], /host link figure.*unified memory/],
  ])("bad input %j: one line, exit 2", ([device, ...extra], msg) => {
    const r = runCli(args(device, extra));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
  });

  it("another engine with the flag: exit 2 with the reason", () => {
    const r = runCli(["speed", "--model", id, "--engine", "llama.cpp", "--device", gen5, "--cpu-offload-gb", "4"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--cpu-offload-gb is vLLM's option \(engine llama\.cpp\)/);
  });
});
