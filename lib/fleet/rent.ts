// Renting cloud instances, the pure part: spending-limit defaults and the deadline they give, the provider-side
// tag that finds an interrupted rental again, what an instance has cost so far, and the reconciliation of the
// ledger's intent records with what the providers list. No I/O here (collector/cloud does the calls).
import { z } from "zod";
import { InputError } from "../calc/types.js";
import { HOST_RE } from "./events.js";
import type { Event } from "./events.js";

/** Spending guards: every flag default lives here (cloud up, dispatch --rent and the README quote these). */
export const RENT_DEFAULTS = {
  /** Most one instance may cost (USD) before hwledger stops it. */
  instanceLimitUsd: 5,
  /** Most all rentals requested on one UTC day may cost together (USD). */
  dailyLimitUsd: 20,
  /** Longest an instance may live (hours), whatever the price. */
  maxHours: 2,
  /** How long an instance may take to answer on SSH after create (seconds). */
  readyTimeoutS: 900,
  /** Disk asked for with the instance (GB), where the provider sizes it. */
  diskGb: 40,
} as const;

/** Shortest rental worth starting: below this the limits leave no time to do anything. */
const MIN_RENTAL_S = 300;

/** What hwledger knows of an instance from its provider; plugins return this shape (validated at the edge). */
export const INSTANCE_STATES = ["pending", "running", "stopped", "outbid", "failed", "terminated"] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export const liveInstanceSchema = z.object({
  provider: z.string().min(1),
  instanceId: z.string().min(1),
  /** The provider-side name/label (hwledger-<intentId> for instances hwledger started). */
  label: z.string().optional(),
  state: z.enum(INSTANCE_STATES),
  /** The provider's own word for the state (actual_status, status, …). */
  providerState: z.string(),
  perHour: z.number().nonnegative().optional(),
  ssh: z.object({ host: z.string().min(1), port: z.number().int().positive(), user: z.string().min(1) }).optional(),
  gpuName: z.string().optional(),
  message: z.string().optional(),
});
export type LiveInstance = z.infer<typeof liveInstanceSchema>;

const LABEL_PREFIX = "hwledger-";

/** The tag hwledger sets on every instance it creates: its intent id, so the ledger and the provider agree. */
export function labelFor(intentId: string): string {
  return LABEL_PREFIX + intentId;
}

export function intentFromLabel(label: string | undefined): string | undefined {
  return label?.startsWith(LABEL_PREFIX) ? label.slice(LABEL_PREFIX.length) : undefined;
}

/** The ledger host name of a rented instance (jobs and costs on it are billed under it): vastai-12345. */
export function instanceHost(provider: string, instanceId: string): string {
  const h = `${provider}-${instanceId}`.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 200);
  return HOST_RE.test(h) ? h : `cloud-${h}`;
}

export interface RentalTerms {
  perHour: number;
  instanceLimitUsd: number;
  dailyLimitUsd: number;
  maxHours: number;
  /** What today's other rentals have cost or may still cost (see committedToday). */
  committedTodayUsd: number;
  now: Date;
}

export interface RentalPlan {
  deadline: Date;
  /** Most this rental may cost: perHour × time to the deadline. */
  limitUsd: number;
  hours: number;
  /** Which guard set the deadline. */
  boundBy: "instance limit" | "daily limit" | "max hours";
}

/** The deadline the spending limits allow; throws InputError when they allow less than five minutes. */
export function planRental(t: RentalTerms): RentalPlan {
  for (const [v, name] of [[t.instanceLimitUsd, "--spend-limit"], [t.dailyLimitUsd, "--daily-limit"], [t.maxHours, "--max-hours"]] as const) {
    if (!(v > 0)) throw new InputError(`${name} must be positive, got ${v}`);
  }
  const left = t.dailyLimitUsd - t.committedTodayUsd;
  const bounds: Array<[number, RentalPlan["boundBy"]]> = [
    [t.maxHours, "max hours"],
    [t.perHour > 0 ? t.instanceLimitUsd / t.perHour : Infinity, "instance limit"],
    [t.perHour > 0 ? Math.max(0, left) / t.perHour : Infinity, "daily limit"],
  ];
  const [hours, boundBy] = bounds.reduce((a, b) => (b[0] < a[0] ? b : a));
  if (hours * 3600 < MIN_RENTAL_S) {
    if (boundBy === "daily limit")
      throw new InputError(
        `the daily spending limit $${t.dailyLimitUsd.toFixed(2)} leaves $${Math.max(0, left).toFixed(2)} ($${t.committedTodayUsd.toFixed(2)} spent or committed today): ${Math.round(hours * 60)} min at $${t.perHour.toFixed(3)}/h; raise --daily-limit`,
      );
    throw new InputError(`the spending limits allow only ${Math.round(hours * 60)} min at $${t.perHour.toFixed(3)}/h; raise --spend-limit or --max-hours`);
  }
  return { deadline: new Date(t.now.getTime() + hours * 3_600_000), limitUsd: t.perHour * hours, hours, boundBy };
}

/** Rate × duration, the fallback when a provider's billing has no record. */
export function rateCost(perHour: number, fromMs: number, toMs: number): number {
  return (perHour * Math.max(0, toMs - fromMs)) / 3_600_000;
}

/** One rental as the ledger and the provider see it together. */
export interface Rental {
  intentId?: string;
  provider: string;
  offerId?: string;
  instanceId?: string;
  label?: string;
  /** Live state from the provider; "unknown" when it could not be asked, "gone" when it no longer lists it. */
  state: InstanceState | "requested" | "unknown" | "gone";
  providerState?: string;
  perHour?: number;
  requestedAt?: string;
  runningAt?: string;
  endedAt?: string;
  deadline?: string;
  limitUsd?: number;
  ssh?: LiveInstance["ssh"];
  /** Recorded cost (cost_recorded) once stopped, else rate × time so far. */
  costUsd: number;
  costBasis: string;
  /** Failure or stop reason from the ledger. */
  reason?: string;
  /** Listed by the provider with hwledger's tag but unknown to this ledger. */
  untracked?: boolean;
}

type P = Record<string, unknown>;

/**
 * Merges the ledger's instance_* and cost_recorded events with the instances each provider lists (by tag).
 * `live` maps provider → its tagged instances, or null when that provider could not be asked.
 */
export function reconcile(events: Event[], live: Map<string, LiveInstance[] | null>, now: Date): Rental[] {
  const byIntent = new Map<string, Rental>();
  const byInstance = new Map<string, Rental>();
  const key = (provider: string, id: string) => `${provider}/${id}`;
  for (const e of [...events].sort((a, b) => a.id.localeCompare(b.id))) {
    const p = e.payload as P;
    const intentId = typeof p.intentId === "string" ? p.intentId : undefined;
    let r = (intentId && byIntent.get(intentId)) || (typeof p.instanceId === "string" ? byInstance.get(key(String(p.provider), p.instanceId)) : undefined);
    if (!r) {
      if (e.type === "cost_recorded" && !intentId) continue;
      r = { intentId, provider: String(p.provider ?? ""), state: "requested", costUsd: 0, costBasis: "" };
      if (intentId) byIntent.set(intentId, r);
    }
    if (typeof p.instanceId === "string" && !r.instanceId) {
      r.instanceId = p.instanceId;
      byInstance.set(key(r.provider, p.instanceId), r);
    }
    if (e.type === "instance_requested") {
      Object.assign(r, { offerId: p.offerId, label: p.label, perHour: p.perHour, requestedAt: e.ts, deadline: p.deadline, limitUsd: p.limitUsd });
    } else if (e.type === "instance_running") {
      r.runningAt = e.ts;
      r.state = "running";
      if (p.ssh) r.ssh = p.ssh as Rental["ssh"];
    } else if (e.type === "instance_stopped") {
      r.state = "terminated";
      r.endedAt = e.ts;
      r.reason = String(p.reason);
    } else if (e.type === "instance_failed") {
      r.state = "failed";
      r.endedAt = e.ts;
      r.reason = String(p.reason);
    } else if (e.type === "cost_recorded") {
      r.costUsd = Number(p.amount);
      r.costBasis = String(p.basis);
    }
  }
  const out = [...new Set([...byIntent.values(), ...byInstance.values()])];
  // The provider's word wins over the ledger's for the live state.
  for (const [provider, list] of live) {
    for (const inst of list ?? []) {
      const intentId = intentFromLabel(inst.label);
      let r = (intentId && byIntent.get(intentId)) || byInstance.get(key(provider, inst.instanceId));
      if (!r) {
        r = { intentId, provider, label: inst.label, state: inst.state, costUsd: 0, costBasis: "", untracked: true };
        out.push(r);
      }
      r.instanceId ??= inst.instanceId;
      r.state = inst.state;
      r.providerState = inst.providerState;
      r.perHour ??= inst.perHour;
      r.ssh ??= inst.ssh;
      if (inst.message) r.reason ??= inst.message;
    }
    if (list === null) continue;
    // An instance the ledger thinks is live that the provider no longer lists is gone.
    const listed = new Set(list.map((i) => i.instanceId));
    const tagged = new Set(list.map((i) => intentFromLabel(i.label)).filter(Boolean));
    for (const r of out) {
      if (r.provider !== provider || r.endedAt) continue;
      const seen = (r.instanceId && listed.has(r.instanceId)) || (r.intentId && tagged.has(r.intentId));
      if (!seen) r.state = "gone";
    }
  }
  for (const r of out) {
    if (!live.has(r.provider) || live.get(r.provider) === null) {
      if (!r.endedAt && r.state !== "running") r.state = r.state === "requested" ? "requested" : "unknown";
    }
    if (!r.costBasis && r.perHour !== undefined && r.requestedAt) {
      const end = r.endedAt ? Date.parse(r.endedAt) : now.getTime();
      r.costUsd = rateCost(r.perHour, Date.parse(r.requestedAt), end);
      r.costBasis = `rate × duration (${r.perHour}/h${r.endedAt ? "" : ", so far"})`;
    }
  }
  return out.sort((a, b) => (a.requestedAt ?? "").localeCompare(b.requestedAt ?? ""));
}

/** Whether hwledger should still stop this rental (it may be costing money). */
export function isLive(r: Rental): boolean {
  return !r.endedAt || ["pending", "running", "stopped", "outbid"].includes(r.state);
}

/**
 * What rentals requested on `now`'s UTC day have cost or may still cost: recorded cost once ended, else the most
 * they may cost until their deadline (a live instance is counted at its limit, so the daily guard is never late).
 */
export function committedToday(rentals: Rental[], now: Date): number {
  const day = now.toISOString().slice(0, 10);
  let sum = 0;
  for (const r of rentals) {
    if (!r.requestedAt?.startsWith(day)) continue;
    sum += r.endedAt && !isLive(r) ? r.costUsd : Math.max(r.costUsd, r.limitUsd ?? r.costUsd);
  }
  return sum;
}

/** Polling delays: 0.5 s doubling to `maxMs`, so a slow boot costs few requests and a fast one little wait. */
export function backoffMs(attempt: number, maxMs = 10_000): number {
  return Math.min(maxMs, 500 * 2 ** attempt);
}

/**
 * The provider and offer id inside a dispatch candidate id, as lib/fleet/candidates.ts dispatchCandidates builds
 * it: `offer:<provider>/<offerId>[@<region>][ (+N regions)]`. Offer ids carry no "@" (Vast.ai numbers, RunPod
 * "<gpu type> (<tier>)", Lambda instance type names).
 */
export function parseOfferCandidateId(id: string): { provider: string; offerId: string } | undefined {
  const m = /^offer:([a-z0-9]+)\/(.+)$/.exec(id);
  if (!m) return undefined;
  const rest = m[2].replace(/ \(\+\d+ regions\)$/, "");
  const at = rest.indexOf("@");
  return { provider: m[1], offerId: at < 0 ? rest : rest.slice(0, at) };
}
