// Offers, status and stopping: what `hwledger cloud offers|status|down` do, without the commander layer.
import type { Offer } from "../../lib/fleet/offers.js";
import { isLive } from "../../lib/fleet/rent.js";
import type { Rental } from "../../lib/fleet/rent.js";
import { CloudInputError, CloudRuntimeError } from "../../plugins/cloud-contract.js";
import { redact } from "../../plugins/redact.js";
import type { Connected } from "./providers.js";
import { anonymous } from "./providers.js";
import { liveRentals, record } from "./records.js";
import { endRental } from "./rental.js";

export interface OfferSource {
  provider: string;
  /** live: asked the provider now; snapshot: the shipped price snapshot (IDs there may no longer be rentable). */
  mode: "live" | "snapshot";
  reason?: string;
  offers: number;
}

/** Live offers from each provider that can be asked, else its shipped snapshot, each labelled with where it came from. */
export async function listOffers(conns: Connected[], o: { online: boolean; gpuCount?: number }): Promise<{ offers: Offer[]; sources: OfferSource[] }> {
  const offers: Offer[] = [];
  const sources: OfferSource[] = [];
  await Promise.all(
    conns.map(async (c) => {
      let got: Offer[] | undefined;
      let reason: string | undefined;
      if (!o.online) reason = "offline";
      else if (c.plugin.offersNeedKey && !c.ctx) reason = `no API key ($${c.plugin.keySource.env})`;
      else {
        try {
          got = await c.plugin.searchOffers(anonymous(c), o.gpuCount ? { gpuCount: o.gpuCount } : {});
        } catch (e) {
          reason = redact((e as Error).message.split("\n")[0]);
        }
      }
      const mode = got ? "live" : "snapshot";
      got ??= c.plugin.snapshotOffers().filter((x) => !o.gpuCount || x.gpuCount === o.gpuCount);
      offers.push(...got);
      sources.push({ provider: c.plugin.provider, mode, ...(reason ? { reason } : {}), offers: got.length });
    }),
  );
  sources.sort((a, b) => a.provider.localeCompare(b.provider));
  return { offers, sources };
}

/** One live offer by provider and id (what `cloud up --offer` rents): unknown is bad input. */
export async function findOffer(c: Connected, offerId: string): Promise<Offer> {
  const ctx = c.ctx ?? anonymous(c);
  const found = (await c.plugin.searchOffers(ctx, { offerId })).filter((o) => o.offerId === offerId);
  if (!found.length) throw new CloudInputError("unknown-offer", `${c.plugin.title}: no offer "${offerId}" is listed now (see hwledger cloud offers)`);
  // The same instance type in several regions: the cheapest.
  return found.reduce((a, b) => ((b.onDemandPerHour ?? Infinity) < (a.onDemandPerHour ?? Infinity) ? b : a));
}

export type StopOutcome = { rental: Rental; result: "stopped" | "already stopped" | "closed" | "failed"; detail: string };

function connFor(conns: Connected[], r: Rental): Connected {
  const c = conns.find((x) => x.plugin.provider === r.provider);
  if (!c) throw new CloudRuntimeError("provider-error", `no plugin for provider ${r.provider}`);
  return c;
}

/**
 * Stops one rental (idempotent): destroys it at the provider, records instance_stopped and its cost. A rental
 * whose instance was never created (interrupted before create) is closed in the ledger; one already stopped is left.
 */
export async function stopRental(ledger: string, conns: Connected[], r: Rental, reason: string): Promise<StopOutcome> {
  if (r.endedAt && (r.state === "gone" || r.state === "terminated" || r.state === "failed")) return { rental: r, result: "already stopped", detail: r.reason ?? "" };
  const c = connFor(conns, r);
  if (!r.instanceId) {
    if (r.state !== "gone") return { rental: r, result: "failed", detail: `${c.plugin.title} could not be asked whether the instance exists` };
    await record(ledger, "instance_failed", { ...(r.intentId ? { intentId: r.intentId } : {}), provider: r.provider, code: "not-created", reason: "no instance carries this rental's tag: it was never created" });
    return { rental: r, result: "closed", detail: "no instance was created" };
  }
  try {
    const { destroyed, cost } = await endRental(ledger, c, { intentId: r.intentId, instanceId: r.instanceId, perHour: r.perHour, requestedAt: r.requestedAt }, { type: "instance_stopped", reason });
    return { rental: r, result: "stopped", detail: `${destroyed === "gone" ? "already gone at the provider; " : ""}cost $${cost.amount.toFixed(4)} (${cost.basis})` };
  } catch (e) {
    return { rental: r, result: "failed", detail: redact((e as Error).message.split("\n")[0]) };
  }
}

/** Matches a rental by instance id, provider/instance id or intent id. */
export function matchRental(rentals: Rental[], id: string): Rental[] {
  return rentals.filter((r) => r.instanceId === id || `${r.provider}/${r.instanceId}` === id || r.intentId === id);
}

export async function down(ledger: string, conns: Connected[], target: { id?: string; all?: boolean }): Promise<{ outcomes: StopOutcome[]; unreachable: string[] }> {
  const { rentals, unreachable } = await liveRentals(ledger, conns);
  let chosen: Rental[];
  if (target.all) chosen = rentals.filter((r) => !r.endedAt || isLive(r));
  else {
    chosen = matchRental(rentals, target.id ?? "");
    if (!chosen.length) throw new CloudInputError("unknown-offer", `no rental "${target.id}" (see hwledger cloud status)`);
  }
  const outcomes: StopOutcome[] = [];
  for (const r of chosen) outcomes.push(await stopRental(ledger, conns, r, target.all ? "cloud down --all" : "cloud down"));
  return { outcomes, unreachable };
}

/** Rentals past their deadline or over their limit: what `cloud status --enforce` stops. */
export function overdue(rentals: Rental[], now = new Date()): Array<{ rental: Rental; why: string }> {
  const out: Array<{ rental: Rental; why: string }> = [];
  for (const r of rentals) {
    if (r.endedAt && !isLive(r)) continue;
    if (r.state === "gone" || r.state === "failed" || r.state === "terminated") continue;
    if (r.deadline && Date.parse(r.deadline) <= now.getTime()) out.push({ rental: r, why: `deadline ${r.deadline} reached` });
    else if (r.limitUsd !== undefined && r.costUsd >= r.limitUsd) out.push({ rental: r, why: `spending limit $${r.limitUsd.toFixed(2)} reached` });
  }
  return out;
}

export async function status(ledger: string, conns: Connected[], o: { enforce?: boolean } = {}): Promise<{ rentals: Rental[]; unreachable: string[]; enforced: StopOutcome[] }> {
  let { rentals, unreachable } = await liveRentals(ledger, conns);
  const enforced: StopOutcome[] = [];
  if (o.enforce) {
    for (const { rental, why } of overdue(rentals)) enforced.push(await stopRental(ledger, conns, rental, why));
    if (enforced.length) ({ rentals, unreachable } = await liveRentals(ledger, conns));
  }
  return { rentals, unreachable, enforced };
}
