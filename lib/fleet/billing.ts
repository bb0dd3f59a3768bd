// Billing: busy time per device and period (from job events in the ledger) priced at each device's hourly cost.
import { costPerMillionTokens, formatUsd } from "./cost.js";
import type { HourlyCost } from "./cost.js";

export interface UsageRow {
  device: string;
  /** Day (YYYY-MM-DD) or month (YYYY-MM). */
  period: string;
  jobs: number;
  busySeconds: number;
  /** Tokens generated in those jobs, when the jobs recorded them. */
  tokens: number;
  /** Costs recorded directly as cost_recorded events. */
  recordedCost: number;
  /** What those recorded costs are (their basis: a provider's billing for a rented instance, an invoice). */
  recordedBasis?: string;
}

export interface BillRow {
  device: string;
  period: string;
  jobs: number;
  busyHours: number;
  cost: number | null;
  costPerMillionTokens: number | null;
  basis: string;
}

/** Prices each usage row at its device's hourly cost; recorded costs are added as they are. */
export function bill(rows: UsageRow[], hourlyFor: (device: string) => HourlyCost | undefined): BillRow[] {
  return rows.map((r) => {
    const h = hourlyFor(r.device);
    const busyHours = r.busySeconds / 3600;
    const priced = h ? h.perHour * busyHours : null;
    const cost = priced === null && r.recordedCost === 0 ? null : (priced ?? 0) + r.recordedCost;
    const perM = h && r.tokens > 0 && r.busySeconds > 0 ? costPerMillionTokens(h.perHour, r.tokens / r.busySeconds) : null;
    return {
      device: r.device,
      period: r.period,
      jobs: r.jobs,
      busyHours,
      cost,
      costPerMillionTokens: perM,
      // A rented instance has no hourly price of its own: its provider's bill is its cost, and says so.
      basis:
        !h && r.recordedCost
          ? `recorded: ${r.recordedBasis ?? "cost_recorded"}`
          : [h ? h.basis : "no price for this device", r.recordedCost ? `+ ${formatUsd(r.recordedCost)} recorded${r.recordedBasis ? ` (${r.recordedBasis})` : ""}` : ""].filter(Boolean).join(" "),
    };
  });
}
