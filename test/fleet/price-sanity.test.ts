// Prices a user can trust, on the shipped snapshots: only tiers a provider sells, implausibly low quotes flagged and
// never ranked, money printed as money with its source and age, identical regional quotes printed once.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatPerHour, formatUsd } from "../../lib/fleet/cost.js";
import { BAND_LOW_FRACTION, dedupeOffers, priceBands, quoteAge, screenOffers } from "../../lib/fleet/offers.js";
import { loadPrices } from "../../loaders/prices.js";
import { parseRunpodGpuTypes } from "../../plugins/price-runpod/parse.js";
import { runCli } from "../helpers/cli.js";

const RUNPOD = JSON.parse(readFileSync(new URL("../../plugins/price-runpod/snapshot.json", import.meta.url), "utf8")) as Array<Record<string, unknown>>;

describe("RunPod tiers", () => {
  it("a tier RunPod does not sell (communityCloud/secureCloud false) yields no offer, and $0 is no price", () => {
    const offers = parseRunpodGpuTypes(RUNPOD, "2025-06-21", "t");
    // Snapshot: B200 communityCloud false with communityPrice 0.5; RTX 3070 secureCloud false with securePrice 0.
    expect(offers.filter((o) => o.gpuName === "NVIDIA B200").map((o) => o.region)).toEqual(["secure"]);
    expect(offers.filter((o) => o.gpuName === "NVIDIA GeForce RTX 3070").map((o) => o.region)).toEqual(["community"]);
    for (const t of RUNPOD) {
      for (const tier of ["secure", "community"]) {
        const sold = offers.some((o) => o.gpuName === t.id && o.region === tier);
        if (sold) expect(t[`${tier}Cloud`]).toBe(true);
      }
    }
    expect(offers.every((o) => (o.onDemandPerHour ?? 1) > 0 && (o.spotPerHour ?? 1) > 0)).toBe(true);
  });
});

describe("plausible band per GPU", () => {
  it("medians come from one quote per instance type at its cheapest region; no shipped offer falls under its band", async () => {
    const { offers } = await loadPrices({ online: false });
    const bands = priceBands(offers);
    // H100 SXM: Lambda 1/2/4/8x, RunPod secure/community, Vast.ai, AWS/GCP/… each counted once (not AWS's 20 regions).
    const h100 = bands.get("h100-sxm-80gb")!;
    expect(h100.offers).toBeGreaterThanOrEqual(5);
    expect(h100.median).toBeGreaterThan(2);
    expect(h100.median).toBeLessThan(5);
    expect(h100.low).toBeCloseTo(h100.median * BAND_LOW_FRACTION, 9);
    for (const spot of [false, true]) expect(screenOffers(offers, spot).flagged).toEqual([]);
  });

  it("a leftover quote like RunPod's B200 community $0.50/h, on a GPU with a band, is flagged with the reason", async () => {
    const { offers } = await loadPrices({ online: false });
    const real = offers.find((o) => o.provider === "runpod" && o.deviceId === "h100-sxm-80gb" && o.region === "secure")!;
    const leftover = { ...real, offerId: "NVIDIA H100 80GB HBM3 (leftover)", onDemandPerHour: 0.5 };
    const { flagged, kept } = screenOffers([...offers, leftover]);
    expect(flagged.map((f) => f.offer)).toEqual([leftover]);
    expect(flagged[0].reason).toMatch(/\$0\.50\/h per GPU is under 0\.25× the median \$\d+\.\d\d\/h of \d+ offers for h100-sxm-80gb/);
    expect(kept).toContain(real);
  });
});

describe("money, age and source", () => {
  it("formats money as money", () => {
    expect(formatPerHour(0.10805555555555556)).toBe("$0.11/h");
    expect(formatUsd(12.5)).toBe("$12.50");
    expect(formatUsd(0.0045)).toBe("$0.0045");
    expect(formatPerHour(0.07)).toBe("$0.07/h");
    expect(quoteAge("2025-06-21", Date.parse("2025-06-24T12:00:00Z"))).toBe("quoted 2025-06-21, 3 days ago");
    expect(quoteAge("2025-06", Date.parse("2025-06-02T00:00:00Z"))).toBe("quoted 2025-06, 1 day ago");
  });

  it("identical regional quotes collapse into one row with a count", async () => {
    const { offers } = await loadPrices({ online: false });
    const lambda2x = offers.filter((o) => o.provider === "lambda" && o.offerId === "gpu_2x_h100_sxm5");
    expect(lambda2x.length).toBeGreaterThan(1);
    const d = dedupeOffers(lambda2x);
    expect(d).toHaveLength(new Set(lambda2x.map((o) => `${o.onDemandPerHour}|${o.source}`)).size);
    expect(d.reduce((n, o) => n + o.count, 0)).toBe(lambda2x.length);
  });

  it("hwledger prices: one row per distinct offer, every row with its price, source and age", () => {
    const r = runCli(["prices"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    const lambda = lines.filter((l) => /^lambda\s+2x\s+h100-sxm-80gb/.test(l));
    expect(lambda).toHaveLength(1);
    expect(lambda[0]).toMatch(/\$6\.38\/h .*\d+ regions .*quoted 2025-06, \d+ days ago/);
    for (const l of lines) {
      expect(l).toMatch(/quoted \d{4}-\d\d/);
      expect(l).not.toMatch(/\d\.\d{5,}/);
    }
    expect(new Set(lines).size).toBe(lines.length);
  });
});
