// hwledger devices: the catalog copied from the shared spec table, through the real CLI.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalogDevices, findDevice } from "../lib/fleet/devices.js";
import { makeEvent } from "../lib/fleet/events.js";
import { appendEvents } from "../lib/ledger/index.js";
import { runCli, runCliJson } from "./helpers/cli.js";
import { tempLedger } from "./helpers/ledger.js";

const GIB = 1024 ** 3;

describe("hwledger devices", () => {
  const list = runCliJson<any[]>(["devices"]);

  it("prints one JSON array of devices with ids, memory and bandwidth in bytes", () => {
    expect(list.length).toBeGreaterThan(50);
    for (const d of list) {
      expect(d.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(Number.isInteger(d.memoryBytes)).toBe(true);
      expect(d.memoryBytes).toBeGreaterThan(0);
      expect(typeof d.sources.memory_gb).toBe("string");
    }
    expect(new Set(list.map((d) => d.id)).size).toBe(list.length);
  });

  it("keeps the spec table's figures and sources (H100 SXM: 80 GiB, 3350 GB/s)", () => {
    const h100 = list.find((d) => d.id === "h100-sxm-80gb");
    expect(h100.memoryBytes).toBe(80 * GIB);
    expect(h100.bandwidthBytesPerSecond).toBe(3350e9);
    expect(h100.sources.memory_gb).toContain("llm-analysis");
    // aiconfigurator writes the H200's capacity in bytes: "141GB" is 141 GiB.
    expect(list.find((d) => d.id === "h200-sxm-141gb").memoryBytes).toBe(151397597184);
    expect(list.find((d) => d.id === "rtx-4090").memoryBytes).toBe(24 * GIB);
  });

  it("splits Apple chips into the memory sizes they are sold in, never above the cited maximum", () => {
    const m2max = list.filter((d) => d.id.startsWith("m2-max-38c-"));
    expect(m2max.map((d) => d.unifiedMemoryBytes / GIB)).toEqual([32, 64, 96]);
    // memoryBytes is the GPU's working set of it (test/apple-memory.test.ts): 2/3 of 32, 3/4 of 64 and 96.
    expect(m2max.map((d) => d.memoryBytes)).toEqual([Math.floor((32 * GIB * 2) / 3), 48 * GIB, 72 * GIB]);
    const shared = JSON.parse(readFileSync(new URL("../data/devices/devices.json", import.meta.url), "utf8")).devices;
    for (const d of shared.filter((x: any) => x.category === "apple-silicon" && x.maxMemoryGb !== null)) expect(d.memoryGb).toBeLessThanOrEqual(d.maxMemoryGb);
  });

  it("human output lists ids with GiB; unknown device is a one-line input error", () => {
    const r = runCli(["devices"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^h100-sxm-80gb\s+80\.00 GiB\s+3350 GB\/s\s+PCIe 5\.0 x16\s+/m);
    // No link: unified memory (Apple) or no cited figure.
    expect(r.stdout).toMatch(/^m2-max-38c-96gb\s.*\s-\s+Apple/m);
    expect(() => findDevice("no-such-gpu")).toThrow(/unknown device "no-such-gpu"/);
    expect(findDevice("RTX-4090").id).toBe("rtx-4090");
    expect(catalogDevices().length).toBe(list.length);
  });
});

describe("hwledger devices with a ledger", () => {
  it("adds the fleet's registered devices, matched to the catalog by name and memory", async () => {
    const dir = tempLedger();
    await appendEvents(dir, [
      makeEvent("device_registered", { name: "NVIDIA GeForce RTX 4090", kind: "gpu", vendor: "nvidia", memoryBytes: 25757220864 }, { host: "desk", device_id: "GPU-abc" }),
    ]);
    const all = runCliJson<any[]>(["devices", "--ledger", dir]);
    const fleet = all.filter((d) => d.source === "fleet");
    expect(fleet).toEqual([expect.objectContaining({ id: "gpu-abc", deviceId: "GPU-abc", host: "desk", catalogId: "rtx-4090", memoryBytes: 25757220864, bandwidthBytesPerSecond: 1008e9 })]);
    expect(all.filter((d) => d.source === "catalog").length).toBe(catalogDevices().length);
  });

  it("fleet device ids follow the catalog's short-id contract, whatever the ledger's device_id (vm/cpu, a catalog id)", async () => {
    const dir = tempLedger();
    const reg = (device_id: string, name: string) => makeEvent("device_registered", { name, kind: "cpu", memoryBytes: 8 * GIB }, { host: "vm", device_id });
    await appendEvents(dir, [reg("vm/cpu", "QEMU Virtual CPU"), reg("VM-CPU", "Other CPU"), reg("rtx-4090", "Odd name"), reg("Ünï/😀", "Emoji")]);
    const all = runCliJson<any[]>(["devices", "--ledger", dir]);
    for (const d of all) expect(d.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
    expect(new Set(all.map((d) => d.id)).size).toBe(all.length);
    const fleet = all.filter((d) => d.source === "fleet").map((d) => [d.deviceId, d.id]);
    expect(fleet).toEqual([
      ["VM-CPU", "vm-cpu"],
      ["rtx-4090", expect.stringMatching(/^rtx-4090-[0-9a-f]{8}$/)],
      ["vm/cpu", expect.stringMatching(/^vm-cpu-[0-9a-f]{8}$/)],
      ["Ünï/😀", "n"],
    ]);
  });
});
