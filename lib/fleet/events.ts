// Ledger events: one immutable row each, {id, ts, host, device_id?, type, payload}, validated by zod when
// written and when read back. Payloads are loose objects: the listed fields are required/typed, extra
// fields are kept (producers may add detail without a schema change here).
import { z } from "zod";
import { InputError } from "../calc/types.js";
import { ULID_RE, ulid } from "./ulid.js";

const bytes = z.number().int().nonnegative();
const num = z.number().finite();
const jobId = z.string().min(1);
const anyRecord = z.record(z.string(), z.unknown());

/** Host names become path segments (host=NAME): keep them to a portable, shell-safe alphabet. */
export const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

const gpuReading = z.looseObject({
  device_id: z.string().min(1),
  name: z.string().optional(),
  vendor: z.string().optional(),
  memoryTotalBytes: bytes.optional(),
  memoryUsedBytes: bytes.optional(),
  utilizationPct: num.optional(),
  powerW: num.optional(),
  temperatureC: num.optional(),
  driver: z.string().optional(),
});

/** What an engine really allocated and reached (from its log), as collector/run records it. */
const actual = z.looseObject({
  weightsBytes: bytes.optional(),
  kvCacheBytes: bytes.optional(),
  computeBytes: bytes.optional(),
  promptTokensPerSecond: num.optional(),
  decodeTokensPerSecond: num.optional(),
});

/**
 * Why a host did not answer (probe_failed.code): the SSH connect outcomes (collector/transport/ssh-pool.ts) and
 * the fan-out's per-host deadline. "error" is any other failure of the host as a whole.
 */
export const HOST_FAILURE_CODES = ["refused", "timeout", "not-found", "unreachable", "auth", "host-key-unknown", "host-key-changed", "host-key-revoked", "closed", "error"] as const;
export type HostFailureCode = (typeof HOST_FAILURE_CODES)[number];

export const PAYLOADS = {
  device_registered: z.looseObject({
    name: z.string().min(1),
    kind: z.enum(["gpu", "cpu", "apple", "accelerator"]),
    vendor: z.string().optional(),
    memoryBytes: bytes,
    transport: z.string().optional(),
    spec: anyRecord.optional(),
  }),
  device_probed: z.looseObject({
    probe: z.string().min(1),
    hostRamBytes: bytes.optional(),
    cpuCount: z.number().int().positive().optional(),
    devices: z.array(gpuReading),
  }),
  probe_failed: z.looseObject({
    probe: z.string().min(1),
    reason: z.string().min(1),
    target: z.string().optional(),
    /** Set when the host as a whole did not answer (probe "host"). */
    code: z.enum(HOST_FAILURE_CODES).optional(),
  }),
  telemetry_sample: z.looseObject({
    memoryUsedBytes: bytes.optional(),
    memoryTotalBytes: bytes.optional(),
    utilizationPct: num.optional(),
    powerW: num.optional(),
    temperatureC: num.optional(),
    jobId: jobId.optional(),
  }),
  job_planned: z.looseObject({
    jobId,
    engine: z.string().min(1),
    model: z.string().min(1),
    /** What the user asked for (HF id, path), when it differs from the resolved model id. */
    modelRef: z.string().min(1).optional(),
    /** Catalog id of the device the job runs on, when the producer knows it. */
    deviceCatalogId: z.string().min(1).optional(),
    deployment: anyRecord.optional(),
    plan: anyRecord,
    request: z.looseObject({ prompt: z.number().int().nonnegative().optional(), gen: z.number().int().nonnegative().optional() }).optional(),
  }),
  job_started: z.looseObject({
    jobId,
    engine: z.string().min(1),
    command: z.array(z.string()),
    pid: z.number().int().optional(),
  }),
  job_completed: z.looseObject({
    jobId,
    actual,
    durationS: num.nonnegative().optional(),
    generatedTokens: z.number().int().nonnegative().optional(),
  }),
  job_failed: z.looseObject({
    jobId,
    reason: z.string().min(1),
    exitCode: z.number().int().nullable().optional(),
    /** What the engine had allocated before it failed, when its log said. */
    actual: actual.optional(),
    durationS: num.nonnegative().optional(),
  }),
  price_quoted: z.looseObject({
    device: z.string().min(1),
    source: z.string().min(1),
    pricePerHour: num.nonnegative(),
    currency: z.string().length(3),
    spot: z.boolean().optional(),
    region: z.string().optional(),
  }),
  cost_recorded: z.looseObject({
    amount: num,
    currency: z.string().length(3),
    basis: z.string().min(1),
    jobId: jobId.optional(),
    // A rented instance's cost (collector/cloud): its rental, provider and instance.
    intentId: jobId.optional(),
    provider: z.string().min(1).optional(),
    instanceId: z.string().min(1).optional(),
    rented: z.boolean().optional(),
  }),
  dispatch_decided: z.looseObject({
    jobId: jobId.optional(),
    chosen: z.string().min(1),
    decision: anyRecord,
  }),
  split_planned: z.looseObject({
    model: z.string().min(1),
    devices: z.array(z.string().min(1)).min(1),
    plan: anyRecord,
  }),
  // Rented cloud instances (hwledger cloud, dispatch --rent). intentId ties the events of one rental together
  // and is the provider-side label hwledger-<intentId>, so an interrupted rental is found again by its tag.
  instance_requested: z.looseObject({
    intentId: jobId,
    provider: z.string().min(1),
    offerId: z.string().min(1),
    label: z.string().min(1),
    perHour: num.nonnegative(),
    /** When hwledger stops it at the latest (ISO time), from the spending limits. */
    deadline: z.string().min(1),
    limitUsd: num.nonnegative(),
    spot: z.boolean().optional(),
  }),
  instance_running: z.looseObject({
    intentId: jobId,
    provider: z.string().min(1),
    instanceId: z.string().min(1),
    ssh: z.looseObject({ host: z.string().min(1), port: z.number().int().positive(), user: z.string().min(1) }).optional(),
  }),
  instance_stopped: z.looseObject({
    intentId: jobId.optional(),
    provider: z.string().min(1),
    instanceId: z.string().min(1),
    reason: z.string().min(1),
  }),
  instance_failed: z.looseObject({
    intentId: jobId.optional(),
    provider: z.string().min(1),
    instanceId: z.string().min(1).optional(),
    /** no-capacity | outbid | bad-key | rate-limited | never-running | unknown-offer | … */
    code: z.string().min(1),
    reason: z.string().min(1),
  }),
} as const;

export type EventType = keyof typeof PAYLOADS;
export const EVENT_TYPES = Object.keys(PAYLOADS) as EventType[];
export type PayloadOf<T extends EventType> = z.infer<(typeof PAYLOADS)[T]>;
/** What a producer passes for a payload (before zod fills nothing in; same as PayloadOf here). */
export type PayloadInput<T extends EventType> = z.input<(typeof PAYLOADS)[T]>;

const envelope = {
  id: z.string().regex(ULID_RE, "id must be a ULID (26 Crockford base32 digits, at most 7ZZZZZZZZZZZZZZZZZZZZZZZZZ)"),
  // UTC ISO-8601 with Z, e.g. 2026-11-27T20:56:49.123Z
  ts: z.iso.datetime({ offset: false, precision: 3 }),
  host: z.string().regex(HOST_RE, "host must match [A-Za-z0-9][A-Za-z0-9._-]*"),
  device_id: z.string().min(1).optional(),
};

const variants = EVENT_TYPES.map((t) => z.object({ ...envelope, type: z.literal(t), payload: PAYLOADS[t] }));
export const EventSchema = z.discriminatedUnion("type", variants as unknown as [(typeof variants)[0], ...(typeof variants)[number][]]);

type Envelope = { id: string; ts: string; host: string; device_id?: string };
export type Event = { [T in EventType]: Envelope & { type: T; payload: PayloadOf<T> } }[EventType];
export type EventInput = { [T in EventType]: Partial<Envelope> & { host: string; type: T; payload: PayloadInput<T> } }[EventType];

function describe(err: z.ZodError): string {
  const i = err.issues[0];
  return `${i.path.length ? i.path.join(".") + ": " : ""}${i.message}`;
}

/** Validates anything (a parsed JSON row, a ledger row) as an Event; bad input throws InputError. */
export function parseEvent(value: unknown): Event {
  // A ledger row may carry device_id = null (Parquet NULL): that means absent.
  if (value && typeof value === "object" && (value as Record<string, unknown>).device_id === null) {
    const { device_id: _, ...rest } = value as Record<string, unknown>;
    value = rest;
  }
  const r = EventSchema.safeParse(value);
  if (!r.success) throw new InputError(`invalid event: ${describe(r.error)}`);
  return r.data as Event;
}

// A time a producer may give: an ISO 8601 date, or date-time with Z or an offset. zod checks the calendar
// (2026-02-30 is refused); Date alone would roll it over to March 2.
const timeInput = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/** A producer's event time as a Date; an impossible or ambiguous (no offset) time throws InputError. */
export function eventTime(ts: Date | string): Date {
  if (typeof ts === "string" && !timeInput.safeParse(ts).success)
    throw new InputError(`invalid event time: ${JSON.stringify(ts)} (ISO 8601 date, or date-time with Z or an offset)`);
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) throw new InputError(`invalid event time: ${String(ts)}`);
  return d;
}

/** Builds and validates a new event with a fresh ULID and the current UTC time. */
export function makeEvent<T extends EventType>(
  type: T,
  payload: PayloadInput<T>,
  opts: { host: string; device_id?: string; ts?: Date | string; id?: string },
): Event {
  const ts = opts.ts === undefined ? new Date() : eventTime(opts.ts);
  const ev: Record<string, unknown> = {
    id: opts.id ?? ulid(ts.getTime()),
    ts: ts.toISOString(),
    host: opts.host,
    type,
    payload,
  };
  if (opts.device_id !== undefined) ev.device_id = opts.device_id;
  return parseEvent(ev);
}
