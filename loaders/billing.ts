// Usage per device and day/month, by SQL over the ledger's events view.
import type { UsageRow } from "../lib/fleet/billing.js";

export async function usageFromLedger(ledgerDir: string, by: "day" | "month"): Promise<UsageRow[]> {
  const { queryLedger } = await import("../collector/ledger/index.js");
  const fmt = by === "day" ? "%Y-%m-%d" : "%Y-%m";
  const rows = await queryLedger(
    ledgerDir,
    `select coalesce(device_id, host) as device, strftime(ts::timestamp, '${fmt}') as period,
       count(*) filter (where type = 'job_completed') as jobs,
       coalesce(sum(try_cast(payload->>'durationS' as double)) filter (where type = 'job_completed'), 0) as busy_seconds,
       coalesce(sum(try_cast(payload->>'generatedTokens' as double)) filter (where type = 'job_completed'), 0) as tokens,
       coalesce(sum(try_cast(payload->>'amount' as double)) filter (where type = 'cost_recorded'), 0) as recorded_cost
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
  }));
}
