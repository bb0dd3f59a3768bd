// Typed views of event payloads for SQL over the ledger, derived from the zod schemas in lib/fleet/events.ts:
// a field name is checked against its event type's schema at compile time, and its SQL type comes from the
// schema at run time, so no query spells `payload->>'…'` by hand. Pure (no Node modules): pages may use it too.
import type { z } from "zod";
import { PAYLOADS } from "../fleet/events.js";
import type { EventType, PayloadOf } from "../fleet/events.js";

type Shape<T extends EventType> = (typeof PAYLOADS)[T]["shape"];
type Unwrap<S> = S extends z.ZodOptional<infer I> ? Unwrap<I> : S extends z.ZodNullable<infer I> ? Unwrap<I> : S;
/** Payload fields the schema of event type T declares. */
export type FieldName<T extends EventType> = keyof Shape<T> & string;
/** Fields of a payload field that is itself an object (e.g. job_completed.actual). */
export type SubFieldName<T extends EventType, K extends FieldName<T>> =
  Unwrap<Shape<T>[K]> extends z.ZodObject<infer S> ? keyof S & string : never;

/** DuckDB type a field reads as: numbers (integers as BIGINT), text, booleans, and JSON for objects and lists. */
export type SqlType = "DOUBLE" | "BIGINT" | "VARCHAR" | "BOOLEAN" | "JSON";

export interface PayloadField {
  /** SQL expression over the `payload` column of the events view; NULL when absent or of another type. */
  readonly sql: string;
  readonly type: SqlType;
  /** The JSON path inside the payload, e.g. ["actual", "kvCacheBytes"]. */
  readonly path: readonly string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function unwrap(s: z.ZodType): z.ZodType {
  let t = s;
  for (;;) {
    const def = t.def as { type: string; innerType?: z.ZodType };
    if ((def.type === "optional" || def.type === "nullable" || def.type === "default") && def.innerType) t = def.innerType;
    else return t;
  }
}

function sqlType(s: z.ZodType): SqlType {
  const t = unwrap(s);
  switch (t.def.type) {
    case "number":
      return (t as z.ZodNumber).isInt ? "BIGINT" : "DOUBLE";
    case "string":
    case "enum":
    case "literal":
      return "VARCHAR";
    case "boolean":
      return "BOOLEAN";
    default:
      return "JSON";
  }
}

function schemaAt(type: EventType, path: readonly string[]): z.ZodType {
  let s: z.ZodType = PAYLOADS[type];
  for (const p of path) {
    const shape = (unwrap(s) as z.ZodObject).shape as Record<string, z.ZodType> | undefined;
    if (!shape?.[p] || !NAME.test(p)) throw new Error(`${type} has no payload field ${path.join(".")}`);
    s = shape[p];
  }
  return s;
}

/**
 * A payload field of one event type as a typed SQL expression: `field("telemetry_sample", "powerW").sql` is
 * `TRY_CAST(payload->>'powerW' AS DOUBLE)`; `field("job_completed", "actual", "kvCacheBytes")` reads a nested one.
 * Objects and lists come back as JSON.
 */
export function field<T extends EventType, K extends FieldName<T>>(type: T, name: K): PayloadField;
export function field<T extends EventType, K extends FieldName<T>, S extends SubFieldName<T, K>>(type: T, name: K, sub: S): PayloadField;
export function field(type: EventType, ...path: string[]): PayloadField {
  const t = sqlType(schemaAt(type, path));
  const parents = path.slice(0, -1).map((p) => `->'${p}'`).join("");
  const last = path[path.length - 1];
  const sql =
    // Parenthesized: DuckDB's -> and ->> bind looser than IS, =, AND (`payload->>'x' IS NULL` is payload->>(… IS NULL)).
    t === "JSON" ? `(payload${parents}->'${last}')` : t === "VARCHAR" ? `(payload${parents}->>'${last}')` : `TRY_CAST(payload${parents}->>'${last}' AS ${t})`;
  return { sql, type: t, path };
}

/** `type IN (…)` for event types checked at compile time. */
export function typeIs(...types: EventType[]): string {
  if (types.length === 0) throw new Error("typeIs: no event type");
  for (const t of types) if (!(t in PAYLOADS)) throw new Error(`unknown event type ${t}`);
  return `type IN (${types.map((t) => `'${t}'`).join(", ")})`;
}

/**
 * The events of one type with the chosen payload fields as typed columns named after the fields (quoted, so
 * their case is kept): `SELECT "powerW" FROM ${eventsOf("telemetry_sample", ["powerW"])}`.
 */
export function eventsOf<T extends EventType>(type: T, names: readonly FieldName<T>[]): string {
  const cols = names.map((n) => `${field(type, n as never).sql} AS "${n}"`);
  return `(SELECT id, ts, host, device_id${cols.map((c) => `, ${c}`).join("")} FROM events WHERE ${typeIs(type)})`;
}

/** An events-view timestamp as ISO 8601 UTC text with milliseconds (what JSON consumers expect). */
export function isoTs(column = "ts"): string {
  return `strftime(${column}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%gZ')`;
}

/** A payload value read back from a query, validated against its type's schema: a typed object, or null. */
export function payloadOf<T extends EventType>(type: T, value: unknown): PayloadOf<T> | null {
  const v = typeof value === "string" ? safeJson(value) : value;
  const r = PAYLOADS[type].safeParse(v);
  return r.success ? (r.data as PayloadOf<T>) : null;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
