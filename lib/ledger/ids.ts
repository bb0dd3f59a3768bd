// Which of a batch's ids are already in the ledger, in any partition. Each segment's id range comes from its
// Parquet footer statistics (read once per segment and process: segments are immutable), so only segments whose
// range holds one of the ids are read; appending new events (ids later than everything stored) reads none.
import type { DuckDBConnection } from "@duckdb/node-api";
import { DuckDBDataChunk, VARCHAR } from "@duckdb/node-api";
import type { Event } from "../fleet/events.js";
import { lit } from "./duck.js";
import { ROW_SQL, eventFromRow } from "./rows.js";
import { fileKey, stableSegments } from "./segments.js";

type Range = { min: string; max: string } | "unknown";
const ranges = new Map<string, Range>();

async function idRanges(c: DuckDBConnection, files: { abs: string; key: string }[]): Promise<void> {
  const todo = files.filter((f) => !ranges.has(f.key));
  if (todo.length === 0) return;
  const sql = (list: string[]) =>
    `SELECT file_name, min(stats_min_value) AS lo, max(stats_max_value) AS hi, count(*) FILTER (WHERE stats_min_value IS NULL) AS gaps
     FROM parquet_metadata([${list.map(lit).join(",")}]) WHERE path_in_schema = 'id' GROUP BY file_name`;
  const read = async (list: string[]) => {
    const out = new Map<string, Range>();
    for (const r of (await c.runAndReadAll(sql(list))).getRowObjectsJS())
      out.set(String(r.file_name), r.lo === null || r.hi === null || Number(r.gaps) > 0 ? "unknown" : { min: String(r.lo), max: String(r.hi) });
    return out;
  };
  let got: Map<string, Range>;
  try {
    got = await read(todo.map((f) => f.abs));
  } catch {
    // One unreadable footer fails the whole pass: read them one by one (an unreadable one holds no readable id).
    got = new Map();
    for (const f of todo) for (const [k, v] of await read([f.abs]).catch(() => new Map<string, Range>())) got.set(k, v);
  }
  for (const f of todo) if (got.has(f.abs)) ranges.set(f.key, got.get(f.abs)!);
}

/** True when some id of the sorted list lies in [min, max]. */
function holdsAny(sorted: readonly string[], r: Range): boolean {
  if (r === "unknown") return true;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < r.min) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] <= r.max;
}

/**
 * The stored events among the given ids, by id; rows that are not valid events are left out (the reader repairs
 * their segments). Retries when a segment is compacted away while it is read.
 */
export async function storedEvents(c: DuckDBConnection, ledgerDir: string, ids: readonly string[]): Promise<Map<string, Event>> {
  const found = new Map<string, Event>();
  if (ids.length === 0) return found;
  let lo = ids[0];
  let hi = ids[0];
  for (const id of ids) {
    if (id < lo) lo = id;
    else if (id > hi) hi = id;
  }
  let sortedIds: string[] | undefined; // sorted only when some segment's range meets the batch's
  for (let attempt = 1; ; attempt++) {
    const segs = await stableSegments(ledgerDir);
    await idRanges(c, segs);
    const near = segs.filter((s) => {
      const r = ranges.get(s.key);
      return r !== undefined && (r === "unknown" || (r.min <= hi && r.max >= lo));
    });
    if (near.length === 0) return found;
    sortedIds ??= [...ids].sort();
    const cands = near.filter((s) => holdsAny(sortedIds!, ranges.get(s.key)!));
    if (cands.length === 0) return found;
    try {
      await c.run("CREATE OR REPLACE TEMP TABLE batch_ids (id VARCHAR)");
      const app = await c.createAppender("batch_ids", "main", "temp");
      for (let i = 0; i < sortedIds.length; i += 2048) {
        const part = sortedIds.slice(i, i + 2048);
        const chunk = DuckDBDataChunk.create([VARCHAR], part.length);
        chunk.setColumns([[...part]]);
        app.appendDataChunk(chunk);
      }
      app.closeSync();
      const r = await c.runAndReadAll(
        `SELECT ${ROW_SQL} FROM read_parquet([${cands.map((s) => lit(s.abs)).join(",")}], hive_partitioning = false)
         WHERE id IN (SELECT id FROM batch_ids)`,
      );
      for (const row of r.getRowObjectsJS()) {
        try {
          found.set(String(row.id), eventFromRow(row));
        } catch {
          // not a valid event: as if absent
        }
      }
      return found;
    } catch (e) {
      const gone = (await Promise.all(cands.map((s) => fileKey(s.abs)))).some((k, i) => k !== cands[i].key);
      if (!gone || attempt >= 20) throw e;
    }
  }
}
