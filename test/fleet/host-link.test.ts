// data/devices/host-link.json: every catalog GPU has a cited host link or a reason; the loader refuses an uncited one.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalogDevices, hostDevices, hostLinkFileSchema } from "../../lib/fleet/devices.js";

const raw = JSON.parse(readFileSync(new URL("../../data/devices/host-link.json", import.meta.url), "utf8"));

describe("host link per catalog device", () => {
  it("every catalog device has a cited PCIe link or says why not", () => {
    for (const d of [...catalogDevices(), ...hostDevices()]) {
      const l = d.hostLink;
      if ("missing" in l) expect(l.missing.length, d.id).toBeGreaterThan(10);
      else {
        expect(l.source.length, d.id).toBeGreaterThan(10);
        expect([3, 4, 5]).toContain(l.pcieGen);
        expect(l.bytesPerSecond).toBeGreaterThan(0);
      }
    }
    const byId = new Map(catalogDevices().map((d) => [d.id, d]));
    // Discrete GPUs with a cited link, SXM/OAM modules included (their host link is PCIe too).
    expect(byId.get("h100-sxm-80gb")!.hostLink).toMatchObject({ pcieGen: 5, pcieLanes: 16, formFactor: expect.stringMatching(/SXM/) });
    expect(byId.get("mi300x")!.hostLink).toMatchObject({ pcieGen: 5, pcieLanes: 16, formFactor: expect.stringMatching(/OAM/) });
    expect(byId.get("arc-pro-b60")!.hostLink).toMatchObject({ pcieGen: 5, pcieLanes: 8 });
    expect(byId.get("t4")!.hostLink).toMatchObject({ pcieGen: 3, pcieLanes: 16 });
    // Apple (unified memory) and CPUs (the host itself): no link, with the reason.
    expect(byId.get("m2-max-38c-96gb")!.hostLink).toMatchObject({ missing: expect.stringMatching(/unified memory/) });
    expect(hostDevices().find((d) => d.id === "epyc-9654")!.hostLink).toMatchObject({ missing: expect.stringMatching(/host itself/) });
    const gpus = catalogDevices().filter((d) => !d.category.startsWith("apple") && d.category !== "apu");
    const cited = gpus.filter((d) => !("missing" in d.hostLink));
    console.log(`host links: ${cited.length} of ${gpus.length} discrete GPUs cited; missing: ${gpus.filter((d) => "missing" in d.hostLink).map((d) => d.id).join(", ")}`);
  });

  it("the schema refuses a figure without a source, a figure next to a reason, and an empty reason", () => {
    const withRow = (row: unknown) => ({ ...raw, devices: { ...raw.devices, t4: row } });
    expect(hostLinkFileSchema.safeParse(raw).success).toBe(true);
    expect(hostLinkFileSchema.safeParse(withRow({ pcieGen: 3, pcieLanes: 16 })).success).toBe(false);
    expect(hostLinkFileSchema.safeParse(withRow({ pcieGen: 3, pcieLanes: 16, source: "" })).success).toBe(false);
    expect(hostLinkFileSchema.safeParse(withRow({ pcieGen: 3, pcieLanes: 16, source: "x", missing: "y" })).success).toBe(false);
    expect(hostLinkFileSchema.safeParse(withRow({ missing: "" })).success).toBe(false);
    expect(hostLinkFileSchema.safeParse(withRow({ pcieGen: 6, pcieLanes: 16, source: "x" })).success).toBe(false);
  });
});
