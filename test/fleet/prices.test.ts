// Price plugins parse the providers' real formats (shipped snapshots, copied from shared/data/samples/prices
// with their sources) and the loader falls back to them offline.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { deviceIdForGpuName } from "../../lib/fleet/offers.js";
import { loadPrices } from "../../loaders/prices.js";
import { parseLambdaInstanceTypes } from "../../plugins/price-lambda/parse.js";
import { parseRunpodGpuTypes } from "../../plugins/price-runpod/parse.js";
import { parseSkypilotCsv } from "../../plugins/price-skypilot/parse.js";
import { parseVastOffers } from "../../plugins/price-vastai/parse.js";
import { defaultElectricityPerKwh, purchasePrices } from "../../plugins/price-static/index.js";

const snap = (p: string) => readFileSync(new URL(`../../plugins/${p}`, import.meta.url), "utf8");

describe("price formats", () => {
  it("RunPod gpuTypes: per-GPU secure/community, on-demand and spot", () => {
    const offers = parseRunpodGpuTypes(JSON.parse(snap("price-runpod/snapshot.json")), "2025-06-21", "t");
    const a100 = offers.find((o) => o.offerId === "NVIDIA A100 80GB PCIe (community)")!;
    expect(a100).toMatchObject({ deviceId: "a100-pcie-80gb", gpuCount: 1, onDemandPerHour: 1.19, spotPerHour: 0.6 });
    expect(offers.find((o) => o.offerId === "NVIDIA A100 80GB PCIe (secure)")).toMatchObject({ onDemandPerHour: 1.64, spotPerHour: 0.82 });
    expect(offers.some((o) => o.gpuName === "unknown")).toBe(false);
  });

  it("Vast.ai offers: dph_total is for all GPUs of the offer", () => {
    const offers = parseVastOffers(JSON.parse(snap("price-vastai/snapshot.json")), "2024-11-05", "t");
    expect(offers).toHaveLength(19);
    const h100x4 = offers.find((o) => o.deviceId === "h100-sxm-80gb" && o.gpuCount === 4)!;
    expect(h100x4.onDemandPerHour).toBeCloseTo(8.535, 2);
    expect(h100x4.memoryBytesPerGpu).toBe(81559 * 1024 ** 2);
    expect(offers.find((o) => o.gpuName === "H100 NVL")!.deviceId).toBeUndefined();
  });

  it("SkyPilot CSV: AWS rows per zone collapse to the cheapest per region; empty prices are skipped", () => {
    const offers = parseSkypilotCsv(snap("price-skypilot/snapshot-aws.csv"), "aws", "x", "t");
    const p5 = offers.filter((o) => o.offerId === "p5.48xlarge");
    expect(p5.every((o) => o.gpuCount === 8 && o.deviceId === "h100-sxm-80gb")).toBe(true);
    const tokyo = p5.find((o) => o.region === "ap-northeast-1")!;
    expect(tokyo.onDemandPerHour).toBeCloseTo(123.19496, 5);
    expect(tokyo.spotPerHour).toBeCloseTo(35.6815, 4); // the cheaper of apne1-az1 (40.0976) and apne1-az4
  });

  it("SkyPilot CSV: GCP accelerator rows get their A2/A3 host VM added; RunPod and Lambda column orders differ", () => {
    const gcp = parseSkypilotCsv(snap("price-skypilot/snapshot-gcp.csv"), "gcp", "x", "t");
    const a100 = gcp.find((o) => o.offerId === "a2-highgpu-1g + 1x A100" && o.region === "asia-northeast1")!;
    expect(a100.onDemandPerHour).toBeCloseTo(1.70586 + 0.94803, 5);
    expect(a100.deviceId).toBe("a100-sxm4-40gb");
    const runpod = parseSkypilotCsv(snap("price-skypilot/snapshot-runpod.csv"), "runpod", "x", "t");
    expect(runpod.find((o) => o.offerId === "1x_A100-80GB_SECURE")).toMatchObject({ onDemandPerHour: 1.64, spotPerHour: 1.19, deviceId: "a100-sxm4-80gb" });
    const lambda = parseSkypilotCsv(snap("price-skypilot/snapshot-lambda.csv"), "lambda", "x", "t");
    expect(lambda.find((o) => o.offerId === "gpu_2x_h100_sxm5")).toMatchObject({ gpuCount: 2, onDemandPerHour: 6.38, deviceId: "h100-sxm-80gb" });
    expect(lambda.find((o) => o.offerId === "gpu_1x_gh200")!.deviceId).toBeUndefined();
  });

  it("Lambda API format (documented shape) and malformed input", () => {
    const offers = parseLambdaInstanceTypes(
      { data: { gpu_1x_a100_sxm4: { instance_type: { name: "gpu_1x_a100_sxm4", price_cents_per_hour: 129, specs: { gpus: 1 }, gpu_description: "A100 (40 GB SXM4)" }, regions_with_capacity_available: [{ name: "us-east-1" }] } } },
      "now",
      "t",
    );
    expect(offers).toEqual([expect.objectContaining({ deviceId: "a100-sxm4-40gb", onDemandPerHour: 1.29, region: "us-east-1" })]);
    expect(() => parseLambdaInstanceTypes({ error: "x" }, "now", "t")).toThrow(/expected \{data/);
    expect(() => parseVastOffers("nope", "now", "t")).toThrow();
  });

  it("GPU names map to catalog ids, and parts the catalog lacks map to nothing", () => {
    expect(deviceIdForGpuName("NVIDIA H100 80GB HBM3")).toBe("h100-sxm-80gb");
    expect(deviceIdForGpuName("H100 PCIE")).toBe("h100-pcie-80gb");
    expect(deviceIdForGpuName("A100", 80)).toBe("a100-sxm4-80gb");
    expect(deviceIdForGpuName("Tesla V100-SXM2-16GB", 16)).toBeUndefined();
    expect(deviceIdForGpuName("RTX 6000Ada")).toBe("rtx-6000-ada");
    expect(deviceIdForGpuName("NVIDIA GeForce RTX 3090 Ti")).toBeUndefined();
  });
});

describe("price loader", () => {
  it("offline: every plugin answers from its snapshot and says so", async () => {
    const r = await loadPrices({ online: false });
    expect(r.sources.map((s) => s.plugin)).toEqual(expect.arrayContaining(["price-runpod", "price-vastai", "price-skypilot", "price-lambda", "price-static"]));
    expect(r.sources.every((s) => s.mode === "snapshot" && s.reason === "offline")).toBe(true);
    expect(r.offers.length).toBeGreaterThan(100);
    expect(r.purchases.find((p) => p.deviceId === "l4")).toMatchObject({ price: 2500, quotedAt: "2025-08-01T17:46:00" });
  });

  it("online but unreachable: falls back to the snapshot with the reason", async () => {
    const r = await loadPrices({ online: true, timeoutMs: 1500 });
    const vast = r.sources.find((s) => s.plugin === "price-vastai")!;
    expect(vast.mode).toBe("snapshot");
    expect(vast.reason).toBeTruthy();
    expect(vast.offers).toBe(19);
  });

  it("default electricity is the median of the shipped country table", () => {
    const v = defaultElectricityPerKwh();
    expect(v).toBeGreaterThan(0.03);
    expect(v).toBeLessThan(0.4);
    expect(purchasePrices()).toHaveLength(4);
  });
});

describe("hwledger prices --record", () => {
  it("appends every quote as a price_quoted event, so price history is queryable with SQL", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { runCli, runCliJson } = await import("../helpers/cli.js");
    const dir = mkdtempSync(join(tmpdir(), "hwl-prices-"));
    const r = runCli(["prices", "--device", "h100-sxm-80gb", "--record", "--ledger", dir, "--json"]);
    expect(r.code).toBe(0);
    const offers = JSON.parse(r.stdout).offers as Array<{ onDemandPerHour?: number; spotPerHour?: number }>;
    const expected = offers.reduce((n, o) => n + (o.onDemandPerHour !== undefined ? 1 : 0) + (o.spotPerHour !== undefined ? 1 : 0), 0);
    expect(expected).toBeGreaterThan(0);
    const rows = runCliJson(["ledger", "query", "select count(*) as n, count(distinct (payload->>'source')) as sources from events where type = 'price_quoted' and (payload->>'device') = 'h100-sxm-80gb'", "--ledger", dir]);
    expect(rows[0].n).toBe(expected);
    expect(rows[0].sources).toBeGreaterThan(1);
  });
});
