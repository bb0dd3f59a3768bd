// Renting one instance: the intent is recorded (fsynced) before the provider is asked, so a kill -9 at any
// point leaves a record that `cloud status` reconciles with the provider's list by the instance's tag; then
// create, poll until running (backoff, deadline), wait until SSH answers, record it running. Any failure after
// create destroys the instance and records instance_failed: nothing is left running.
import { existsSync, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { hwledgerStateDir } from "../../lib/ledger/layout.js";
import { join } from "node:path";
import { ulid } from "../../lib/fleet/ulid.js";
import { backoffMs, committedToday, instanceHost, labelFor, planRental } from "../../lib/fleet/rent.js";
import type { LiveInstance, RentalPlan } from "../../lib/fleet/rent.js";
import type { Offer } from "../../lib/fleet/offers.js";
import { CloudInputError, CloudRuntimeError, cloudErrorCode } from "../../plugins/cloud-contract.js";
import { redact } from "../../plugins/redact.js";
import { SshTransport } from "../transport/index.js";
import type { Connected } from "./providers.js";
import { withKey } from "./providers.js";
import { ledgerRentals, record, recordCost } from "./records.js";

export interface Limits {
  instanceLimitUsd: number;
  dailyLimitUsd: number;
  maxHours: number;
}

export interface SshChoice {
  /** Overrides the provider's SSH user (custom images). */
  user?: string;
  /** Overrides the port the provider reports (Lambda reports none: 22). */
  port?: number;
  identityFile?: string;
  /** A key registered with the provider, for APIs that take a name (Lambda). */
  keyName?: string;
}

export interface RentRequest {
  ledger: string;
  conn: Connected;
  offer: Offer;
  /** Interruptible at this bid per hour (whole offer). */
  bidPerHour?: number;
  plan: RentalPlan & { perHour: number };
  image?: string;
  diskGb: number;
  ssh: SshChoice;
  readyTimeoutS: number;
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

export interface Rented {
  intentId: string;
  provider: string;
  instanceId: string;
  /** Ledger host name of the instance (jobs and costs on it are recorded under it). */
  host: string;
  perHour: number;
  deadline: Date;
  limitUsd: number;
  requestedAt: string;
  sshUrl: string;
  knownHostsFile: string;
  identityFile?: string;
}

/** The hourly price an offer is rented at: the bid for interruptible, else on-demand. */
export function offerPrice(offer: Offer, bidPerHour?: number): number {
  const p = bidPerHour ?? offer.onDemandPerHour;
  if (p === undefined) throw new CloudInputError("unknown-offer", `offer ${offer.provider}/${offer.offerId} has no on-demand price`);
  return p;
}

/** The deadline the limits allow for this offer, given what today's rentals in the ledger have committed. */
export async function planFor(ledger: string, perHour: number, limits: Limits, now = new Date()): Promise<RentalPlan & { perHour: number; committedTodayUsd: number }> {
  const committedTodayUsd = committedToday(await ledgerRentals(ledger, now), now);
  return { ...planRental({ perHour, ...limits, committedTodayUsd, now }), perHour, committedTodayUsd };
}

function stateDir(): string {
  return join(hwledgerStateDir(), "cloud");
}

/** The identity file SSH will use and its public half, if there is one next to it. */
export function sshKeyPair(identityFile?: string): { identityFile?: string; publicKey?: string } {
  const id = identityFile ?? process.env.HWLEDGER_SSH_KEY ?? ["id_ed25519", "id_ecdsa", "id_rsa"].map((n) => join(homedir(), ".ssh", n)).find((p) => existsSync(p));
  if (!id) return {};
  const pub = `${id}.pub`;
  return { identityFile: id, ...(existsSync(pub) ? { publicKey: readFileSync(pub, "utf8").trim().split("\n")[0] } : {}) };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

export function sshUrlOf(ssh: NonNullable<LiveInstance["ssh"]>, choice: SshChoice): string {
  const host = ssh.host.includes(":") ? `[${ssh.host}]` : ssh.host;
  return `ssh://${encodeURIComponent(choice.user ?? ssh.user)}@${host}:${choice.port ?? ssh.port}`;
}

/** Polls the provider until the instance runs with an SSH address; outbid, failed or gone end it at once. */
async function waitRunning(req: RentRequest, instanceId: string, until: number): Promise<NonNullable<LiveInstance["ssh"]>> {
  const { plugin } = req.conn;
  const ctx = withKey(req.conn);
  let last = "";
  for (let attempt = 0; ; attempt++) {
    const i = await plugin.get(ctx, instanceId);
    if (!i) throw new CloudRuntimeError("never-running", `${plugin.title}: instance ${instanceId} disappeared before it ran`);
    if (i.state === "outbid")
      throw new CloudRuntimeError("outbid", `${plugin.title}: instance ${instanceId} was outbid (bid $${req.bidPerHour ?? "?"}/h): raise --bid or rent on-demand`);
    if (i.state === "failed" || i.state === "terminated" || i.state === "stopped")
      throw new CloudRuntimeError("never-running", `${plugin.title}: instance ${instanceId} is ${i.providerState}${i.message ? ` (${i.message})` : ""} instead of running`);
    if (i.state === "running" && i.ssh) return i.ssh;
    if (i.providerState !== last) req.progress?.(`cloud: ${plugin.provider}/${instanceId} ${i.providerState}`);
    last = i.providerState;
    if (Date.now() + backoffMs(attempt) > until)
      throw new CloudRuntimeError("never-running", `${plugin.title}: instance ${instanceId} did not reach running within ${req.readyTimeoutS} s (last state: ${i.providerState})`);
    await sleep(backoffMs(attempt), req.signal);
  }
}

/** Tries SSH until it answers: sshd starts after the provider reports running. The first key seen is trusted. */
async function waitSsh(req: RentRequest, url: string, knownHostsFile: string, identityFile: string | undefined, until: number): Promise<void> {
  let lastError = "";
  for (let attempt = 0; ; attempt++) {
    const t = new SshTransport(url, { knownHostsFile, trustHostKey: true, connectTimeoutMs: 10_000, ...(identityFile ? { identityFile } : {}) });
    try {
      const r = await t.exec(["true"], { timeoutMs: 15_000 });
      if (r.code === 0) return;
      lastError = `exit ${r.code}`;
    } catch (e) {
      if (e instanceof CloudInputError) throw e;
      lastError = (e as Error).message.split("\n")[0];
    } finally {
      await t.close();
    }
    if (Date.now() + backoffMs(attempt) > until)
      throw new CloudRuntimeError("never-running", `${req.conn.plugin.title}: SSH did not answer within ${req.readyTimeoutS} s (${lastError})`);
    await sleep(backoffMs(attempt), req.signal);
  }
}

/** Destroys a rental that failed or ended and records why and what it cost. Idempotent. */
export async function endRental(
  ledger: string,
  conn: Connected,
  r: { intentId?: string; instanceId: string; perHour?: number; requestedAt?: string },
  outcome: { type: "instance_stopped"; reason: string } | { type: "instance_failed"; code: string; reason: string },
): Promise<{ destroyed: "destroyed" | "gone"; cost: { amount: number; basis: string } }> {
  const destroyed = await conn.plugin.destroy(withKey(conn), r.instanceId);
  const base = { ...(r.intentId ? { intentId: r.intentId } : {}), provider: conn.plugin.provider, instanceId: r.instanceId };
  if (outcome.type === "instance_stopped") await record(ledger, "instance_stopped", { ...base, reason: outcome.reason });
  else await record(ledger, "instance_failed", { ...base, code: outcome.code, reason: outcome.reason });
  const cost = await recordCost(ledger, conn, r);
  return { destroyed, cost };
}

/**
 * A rental that failed before its intent was recorded (a refused key, an unknown offer): recorded as
 * instance_failed without an instance, so every attempt is in the ledger. Other errors are not the provider's.
 */
export async function recordAttemptFailure(ledger: string, provider: string, e: unknown, offerId?: string): Promise<void> {
  if (!(e instanceof CloudInputError || e instanceof CloudRuntimeError)) return;
  await record(ledger, "instance_failed", { provider, code: e.code, reason: redact(e.message), ...(offerId ? { offerId } : {}) }).catch(() => undefined);
}

export async function rent(req: RentRequest): Promise<Rented> {
  const { conn, offer, ledger } = req;
  const ctx = withKey(conn);
  const intentId = ulid();
  const label = labelFor(intentId);
  const { perHour, deadline, limitUsd } = req.plan;
  const requestedAt = new Date().toISOString();
  // The intent first, fsynced: whatever happens next, status can find the instance by its label.
  await record(ledger, "instance_requested", {
    intentId,
    provider: conn.plugin.provider,
    offerId: offer.offerId,
    label,
    perHour,
    deadline: deadline.toISOString(),
    limitUsd,
    ...(req.bidPerHour !== undefined ? { spot: true } : {}),
    ...(offer.gpuName ? { gpuName: offer.gpuName, gpuCount: offer.gpuCount } : {}),
  });
  const keys = sshKeyPair(req.ssh.identityFile);
  let instanceId: string;
  try {
    instanceId = await conn.plugin.create(ctx, {
      offer,
      label,
      diskGb: req.diskGb,
      ...(req.image ? { image: req.image } : {}),
      ...(keys.publicKey ? { sshPublicKey: keys.publicKey } : {}),
      ...(req.ssh.keyName ? { sshKeyName: req.ssh.keyName } : {}),
      ...(req.bidPerHour !== undefined ? { bidPerHour: req.bidPerHour } : {}),
    });
  } catch (e) {
    await record(ledger, "instance_failed", { intentId, provider: conn.plugin.provider, code: cloudErrorCode(e), reason: redact((e as Error).message) });
    throw e;
  }
  req.progress?.(`cloud: created ${conn.plugin.provider}/${instanceId} (${label}), waiting until it runs`);
  const until = Date.now() + req.readyTimeoutS * 1000;
  try {
    const ssh = await waitRunning(req, instanceId, until);
    const sshUrl = sshUrlOf(ssh, req.ssh);
    const dir = stateDir();
    await mkdir(dir, { recursive: true });
    const knownHostsFile = join(dir, `${intentId}.known_hosts`);
    req.progress?.(`cloud: ${conn.plugin.provider}/${instanceId} running; waiting for SSH`);
    await waitSsh(req, sshUrl, knownHostsFile, keys.identityFile, until);
    const at = new URL(sshUrl);
    await record(ledger, "instance_running", {
      intentId,
      provider: conn.plugin.provider,
      instanceId,
      ssh: { host: at.hostname.replace(/^\[|\]$/g, ""), port: Number(at.port), user: decodeURIComponent(at.username) },
    });
    return { intentId, provider: conn.plugin.provider, instanceId, host: instanceHost(conn.plugin.provider, instanceId), perHour, deadline, limitUsd, requestedAt, sshUrl, knownHostsFile, ...(keys.identityFile ? { identityFile: keys.identityFile } : {}) };
  } catch (e) {
    const interrupted = req.signal?.aborted;
    const code = interrupted ? "interrupted" : cloudErrorCode(e);
    const reason = interrupted ? `interrupted by ${String(req.signal?.reason ?? "a signal")} before it was ready` : redact((e as Error).message);
    try {
      await endRental(ledger, conn, { intentId, instanceId, perHour, requestedAt }, { type: "instance_failed", code, reason });
      req.progress?.(`cloud: ${conn.plugin.provider}/${instanceId} destroyed`);
    } catch (d) {
      throw new CloudRuntimeError("provider-error", `${reason}; destroying ${conn.plugin.provider}/${instanceId} failed too (${(d as Error).message.split("\n")[0]}): run hwledger cloud down --all`);
    }
    if (interrupted) throw new CloudRuntimeError("never-running", `${conn.plugin.provider}/${instanceId}: ${reason}; destroyed`);
    throw e;
  }
}
