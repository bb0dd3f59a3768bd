// Billing from a real Parquet ledger through the real CLI: busy hours per device and day priced at the quote.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { appendEvents } from "../../lib/ledger/index.js";
import { makeEvent } from "../../lib/fleet/events.js";
import { runCli, runCliJson } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "hwl-costs-"));

beforeAll(async () => {
  const at = (d: string) => ({ host: "box1", ts: d });
  await appendEvents(dir, [
    makeEvent("price_quoted", { device: "gpu-a", source: "runpod:test", pricePerHour: 2, currency: "USD", spot: false }, at("2026-11-01T00:00:00.000Z")),
    makeEvent("price_quoted", { device: "gpu-a", source: "runpod:test", pricePerHour: 3, currency: "USD", spot: false }, at("2026-11-02T00:00:00.000Z")),
    makeEvent("job_completed", { jobId: "j1", actual: {}, durationS: 1800, generatedTokens: 360000 }, { ...at("2026-11-03T10:00:00.000Z"), device_id: "gpu-a" }),
    makeEvent("job_completed", { jobId: "j2", actual: {}, durationS: 5400 }, { ...at("2026-11-03T12:00:00.000Z"), device_id: "gpu-a" }),
    makeEvent("job_completed", { jobId: "j3", actual: {}, durationS: 3600 }, { ...at("2026-11-04T12:00:00.000Z"), device_id: "gpu-b" }),
    makeEvent("cost_recorded", { amount: 0.25, currency: "USD", basis: "egress" }, { ...at("2026-11-04T13:00:00.000Z"), device_id: "gpu-b" }),
  ]);
});

describe("hwledger costs", () => {
  it("per day: busy hours × the latest quote; recorded costs added; unknown price is null", () => {
    const rows = runCliJson(["costs", "--ledger", dir]);
    const a = rows.find((r: any) => r.device === "gpu-a" && r.period === "2026-11-03");
    expect(a).toMatchObject({ jobs: 2, busyHours: 2, cost: 6 });
    // j1 alone reported tokens: 360000 in 2 h of busy time -> 50 tok/s -> 3/h / (50 × 3600) × 1e6 = 16.67 per million.
    expect(a.costPerMillionTokens).toBeCloseTo(16.6667, 3);
    const b = rows.find((r: any) => r.device === "gpu-b");
    expect(b).toMatchObject({ period: "2026-11-04", jobs: 1, busyHours: 1, cost: 0.25 });
  });

  it("per month aggregates the days", () => {
    const rows = runCliJson(["costs", "--ledger", dir, "--by", "month"]);
    expect(rows.find((r: any) => r.device === "gpu-a")).toMatchObject({ period: "2026-11", jobs: 2, cost: 6 });
  });

  it("bad --by is exit 2", () => {
    const r = runCli(["costs", "--ledger", dir, "--by", "week"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--by must be day or month/);
  });
});
