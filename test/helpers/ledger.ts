// Small helpers shared by the ledger tests.
import { join } from "node:path";
import type { Event } from "../../lib/fleet/events.js";
import { makeEvent } from "../../lib/fleet/events.js";
import { scratchDir } from "./hermetic.js";

/** A ledger path (not created) in the test file's temp root, removed when the file ends. */
export function tempLedger(): string {
  return join(scratchDir("ledger-"), "ledger");
}

/** n telemetry events for a host, with distinct payloads (so content comparisons mean something). */
export function telemetry(n: number, host = "box1", ts?: string): Event[] {
  return Array.from({ length: n }, (_, i) =>
    makeEvent("telemetry_sample", { memoryUsedBytes: i * 1024, powerW: 100 + i / 10, utilizationPct: i % 100 }, { host, device_id: `gpu${i % 2}`, ts }),
  );
}

/**
 * Writes a segment straight with DuckDB (as a foreign or older writer could): `rowsSql` selects the six ledger
 * columns. Returns the file's path relative to the ledger.
 */
export async function rawSegment(dir: string, dt: string, host: string, rowsSql: string): Promise<string> {
  const { mkdirSync } = await import("node:fs");
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const { ulid } = await import("../../lib/fleet/ulid.js");
  const rel = `dt=${dt}/host=${host}/part-${ulid()}.parquet`;
  mkdirSync(join(dir, rel, ".."), { recursive: true });
  const c = await (await DuckDBInstance.create(":memory:")).connect();
  await c.run(`COPY (${rowsSql}) TO '${join(dir, rel)}' (FORMAT parquet)`);
  c.closeSync();
  return rel;
}

/** SQL for one ledger row (the six columns) from an event, with the payload given as JSON text. */
export function rowSql(e: { id: string; ts: string; host: string; device_id?: string; type: string }, payloadJson: string): string {
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
  return `SELECT ${q(e.id)} AS id, ${q(e.ts)}::TIMESTAMPTZ AS ts, ${q(e.host)} AS host, ${e.device_id ? q(e.device_id) : "NULL::VARCHAR"} AS device_id, ${q(e.type)} AS type, ${q(payloadJson)}::JSON AS payload`;
}
