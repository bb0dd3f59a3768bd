// Usage per device and day/month, by SQL over the ledger's events view.
import type { UsageRow } from "../lib/fleet/billing.js";
import type { Quote } from "../lib/fleet/candidates.js";
import { deviceIdForGpuName } from "../lib/fleet/offers.js";

export async function usageFromLedger(ledgerDir: string, by: "day" | "month"): Promise<UsageRow[]> {
  const { queryLedger } = await import("../lib/ledger/index.js");
  const fmt = by === "day" ? "%Y-%m-%d" : "%Y-%m";
  const rows = await queryLedger(
    ledgerDir,
    `select coalesce(device_id, host) as device, strftime(ts::timestamp, '${fmt}') as period,
       count(*) filter (where type = 'job_completed') as jobs,
       coalesce(sum(try_cast(payload->>'durationS' as double)) filter (where type = 'job_completed'), 0) as busy_seconds,
       coalesce(sum(try_cast(payload->>'generatedTokens' as double)) filter (where type = 'job_completed'), 0) as tokens,
       coalesce(sum(try_cast(payload->>'amount' as double)) filter (where type = 'cost_recorded'), 0) as recorded_cost,
       string_agg(distinct payload->>'basis', '; ') filter (where type = 'cost_recorded') as recorded_basis
     from events where type in ('job_completed', 'cost_recorded')
     group by all order by period, device`,
  );
  return rows.map((r) => ({
    device: String(r.device),
    period: String(r.period),
    jobs: Number(r.jobs),
    busySeconds: Number(r.busy_seconds),
    tokens: Number(r.tokens),
    recordedCost: Number(r.recorded_cost),
    ...(r.recorded_basis ? { recordedBasis: String(r.recorded_basis) } : {}),
  }));
}

/** Latest on-demand price_quoted per device, and each fleet device's catalog id: what billing prices busy time at. */
export async function billingPrices(ledgerDir: string): Promise<{ quotes: Quote[]; catalogIds: Record<string, string | null> }> {
  const { queryLedger } = await import("../lib/ledger/index.js");
  const q = await queryLedger(
    ledgerDir,
    `select payload->>'device' as device, try_cast(payload->>'pricePerHour' as double) as p, payload->>'source' as src
     from events where type = 'price_quoted' and coalesce(payload->>'spot', 'false') = 'false'
     qualify row_number() over (partition by payload->>'device' order by ts desc) = 1`,
  );
  const regs = await queryLedger(
    ledgerDir,
    `select device_id, payload->>'name' as name, try_cast(payload->>'memoryBytes' as double) as mem
     from events where type = 'device_registered' and device_id is not null
     qualify row_number() over (partition by device_id order by ts desc) = 1`,
  );
  return {
    quotes: q.filter((r) => typeof r.p === "number").map((r) => ({ device: String(r.device), perHour: r.p as number, source: String(r.src) })),
    catalogIds: Object.fromEntries(regs.map((r) => [String(r.device_id), deviceIdForGpuName(String(r.name), Number(r.mem) / 1024 ** 3) ?? null])),
  };
}
