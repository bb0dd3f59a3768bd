// Segment rows as events: the one conversion from a Parquet row (as DuckDB returns it) to a zod-validated Event,
// used by readers, compaction and the append check.
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Event } from "../fleet/events.js";
import { parseEvent } from "../fleet/events.js";
import { lit } from "./duck.js";

/** The columns to select for eventFromRow (payload as text: the JSON exactly as stored). */
export const ROW_SQL = "id, ts, host, device_id, type, payload::VARCHAR AS payload";

/** A row selected with ROW_SQL as a validated Event; throws InputError when the row is not a valid event. */
export function eventFromRow(row: Record<string, unknown>): Event {
  let payload: unknown;
  try {
    payload = JSON.parse(String(row.payload));
  } catch {
    payload = undefined; // parseEvent then names the payload
  }
  const ts = row.ts instanceof Date ? row.ts.toISOString() : row.ts;
  return parseEvent({ id: row.id, ts, host: row.host, device_id: row.device_id, type: row.type, payload });
}

/** Ids of the rows of these segment files that fail the event schema, with the first reason. */
export async function invalidRows(c: DuckDBConnection, files: readonly string[]): Promise<{ ids: Set<string>; reason: string }> {
  const ids = new Set<string>();
  let reason = "";
  const res = await c.stream(`SELECT ${ROW_SQL} FROM read_parquet([${files.map(lit).join(",")}], hive_partitioning = false)`);
  for await (const rows of res.yieldRowObjectJs()) {
    for (const row of rows) {
      try {
        eventFromRow(row);
      } catch (e) {
        ids.add(String(row.id));
        reason ||= (e as Error).message;
      }
    }
  }
  return { ids, reason };
}

/** Canonical JSON (keys sorted at every level): equal values give equal text whatever the key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined) // as JSON.stringify drops them on write
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

/** Whether two events are the same event (same id, time, host, device, type and payload). */
export function sameEvent(a: Event, b: Event): boolean {
  return (
    a.id === b.id &&
    a.ts === b.ts &&
    a.host === b.host &&
    (a.device_id ?? null) === (b.device_id ?? null) &&
    a.type === b.type &&
    canonicalJson(a.payload) === canonicalJson(b.payload)
  );
}
