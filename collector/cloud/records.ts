// What renting writes to and reads from the ledger: the instance_* events and the rentals' cost_recorded.
// Each append is its own fsynced segment (lib/ledger), so a kill -9 right after a write keeps it.
import { makeEvent } from "../../lib/fleet/events.js";
import type { Event, EventType, PayloadInput } from "../../lib/fleet/events.js";
import { instanceHost, rateCost, reconcile } from "../../lib/fleet/rent.js";
import type { LiveInstance, Rental } from "../../lib/fleet/rent.js";
import { appendEvents, field, readEvents, typeIs } from "../../lib/ledger/index.js";
import type { BillingRecord } from "../../plugins/cloud-contract.js";
import type { Connected } from "./providers.js";
import { localHost } from "./providers.js";

export async function record<T extends EventType>(ledger: string, type: T, payload: PayloadInput<T>, host = localHost()): Promise<void> {
  await appendEvents(ledger, [makeEvent(type, payload, { host })]);
}

/** The ledger's side of every rental: instance_* events and the costs recorded for them. */
export async function rentalEvents(ledger: string): Promise<Event[]> {
  return readEvents(
    ledger,
    `${typeIs("instance_requested", "instance_running", "instance_stopped", "instance_failed")} OR (${typeIs("cost_recorded")} AND ${field("cost_recorded", "intentId").sql} IS NOT NULL)`,
  );
}

/** Rentals from the ledger alone (no provider asked): what the daily limit counts. */
export async function ledgerRentals(ledger: string, now = new Date()): Promise<Rental[]> {
  return reconcile(await rentalEvents(ledger), new Map(), now);
}

/** Rentals from the ledger merged with every provider's tagged instances (providers without a key: ledger only). */
export async function liveRentals(ledger: string, conns: Connected[], now = new Date()): Promise<{ rentals: Rental[]; unreachable: string[] }> {
  const live = new Map<string, LiveInstance[] | null>();
  const unreachable: string[] = [];
  await Promise.all(
    conns.map(async (c) => {
      if (!c.ctx) return;
      try {
        live.set(c.plugin.provider, await c.plugin.listTagged(c.ctx));
      } catch (e) {
        live.set(c.plugin.provider, null);
        unreachable.push((e as Error).message.split("\n")[0]);
      }
    }),
  );
  return { rentals: reconcile(await rentalEvents(ledger), live, now), unreachable };
}

/**
 * The cost of a rental that ended: the provider's own billing for it when it has a record, else rate × duration
 * from the request to now. Written as cost_recorded under the instance's host name, beside the jobs run on it.
 */
export async function recordCost(
  ledger: string,
  c: Connected,
  r: { intentId?: string; instanceId: string; perHour?: number; requestedAt?: string },
  now = new Date(),
): Promise<{ amount: number; basis: string }> {
  const since = r.requestedAt ? new Date(r.requestedAt) : now;
  let billed: BillingRecord | undefined;
  if (c.plugin.billing && c.ctx) {
    try {
      billed = await c.plugin.billing(c.ctx, r.instanceId, since, now);
    } catch {
      billed = undefined; // billing is best effort: rate × duration below
    }
  }
  const amount = billed?.amountUsd ?? rateCost(r.perHour ?? 0, since.getTime(), now.getTime());
  const basis = billed?.basis ?? `rate × duration (${r.perHour ?? 0}/h × ${((now.getTime() - since.getTime()) / 3_600_000).toFixed(3)} h)`;
  await record(
    ledger,
    "cost_recorded",
    { amount, currency: "USD", basis, ...(r.intentId ? { intentId: r.intentId } : {}), provider: c.plugin.provider, instanceId: r.instanceId, rented: true },
    instanceHost(c.plugin.provider, r.instanceId),
  );
  return { amount, basis };
}
