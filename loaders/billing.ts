// Usage per device and day/month, by SQL over the ledger's events view.
import type { UsageRow } from "../lib/fleet/billing.js";
import type { Quote } from "../lib/fleet/candidates.js";
import { deviceIdForGpuName } from "../lib/fleet/offers.js";
import { field, typeIs } from "../lib/ledger/fields.js";
import { LATEST_REGISTRATIONS } from "./fleet.js";

export async function usageFromLedger(ledgerDir: string, by: "day" | "month"): Promise<UsageRow[]> {
  const { queryLedger } = await import("../lib/ledger/query.js");
  const fmt = by === "day" ? "%Y-%m-%d" : "%Y-%m";
  const done = typeIs("job_completed");
  const rows = await queryLedger(
    ledgerDir,
    `select coalesce(device_id, host) as device, strftime(ts::timestamp, '${fmt}') as period,
       count(*) filter (where ${done}) as jobs,
       coalesce(sum(${field("job_completed", "durationS").sql}) filter (where ${done}), 0) as busy_seconds,
       coalesce(sum(${field("job_completed", "generatedTokens").sql}) filter (where ${done}), 0) as tokens,
       coalesce(sum(${field("cost_recorded", "amount").sql}) filter (where ${typeIs("cost_recorded")}), 0) as recorded_cost,
       string_agg(distinct ${field("cost_recorded", "basis").sql}, '; ') filter (where ${typeIs("cost_recorded")}) as recorded_basis
     from events where ${typeIs("job_completed", "cost_recorded")}
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
  const { queryLedger } = await import("../lib/ledger/query.js");
  const device = field("price_quoted", "device").sql;
  const q = await queryLedger(
    ledgerDir,
    `select ${device} as device, ${field("price_quoted", "pricePerHour").sql} as p, ${field("price_quoted", "source").sql} as src
     from events where ${typeIs("price_quoted")} and not coalesce(${field("price_quoted", "spot").sql}, false)
     qualify row_number() over (partition by ${device} order by ts desc) = 1`,
  );
  const regs = await queryLedger(
    ledgerDir,
    `select device_id, ${field("device_registered", "name").sql} as name, ${field("device_registered", "memoryBytes").sql} as mem
     from ${LATEST_REGISTRATIONS}`,
  );
  return {
    quotes: q.filter((r) => typeof r.p === "number").map((r) => ({ device: String(r.device), perHour: r.p as number, source: String(r.src) })),
    catalogIds: Object.fromEntries(regs.map((r) => [String(r.device_id), deviceIdForGpuName(String(r.name), Number(r.mem) / 1024 ** 3) ?? null])),
  };
}
