// Appending to the ledger: one batch = one immutable Parquet segment per (UTC day, host) partition.
// Crash safety: DuckDB writes a temp file in the partition folder, we fsync it, hard-link it to its final
// name (atomic, never overwrites), unlink the temp and fsync the folder. A crash leaves either the whole
// segment or an ignored temp file, never half a segment.
import { link, mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBDataChunk, VARCHAR } from "@duckdb/node-api";
import type { Event } from "../fleet/events.js";
import { parseEvent } from "../fleet/events.js";
import { ulid } from "../fleet/ulid.js";
import { lit, withConnection } from "./duck.js";
import { TMP_PREFIX, partitionDir, segmentName } from "./layout.js";

/** The column order of every segment (and of the `events` view). */
export const COLUMNS = ["id", "ts", "host", "device_id", "type", "payload"] as const;
const CHUNK = 2048; // DuckDB's standard vector size

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Moves a finished temp file to its final name without ever replacing an existing segment: link(2) fails with
 * EEXIST when the same (content-addressed) segment is already there, which means the same rows. Filesystems
 * without hard links fall back to rename(2) after an existence check.
 */
export async function placeSegment(tmp: string, final: string): Promise<void> {
  try {
    await link(tmp, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
    if (!(await exists(final))) await rename(tmp, final);
  }
}

/** Writes rows (already valid, sorted by id) as one Parquet segment into partition `part`. Returns its relative path. */
async function writeSegment(ledgerDir: string, part: string, rows: Event[]): Promise<string> {
  const name = segmentName(rows.map((r) => r.id));
  const rel = `${part}/${name}`;
  const dirAbs = join(ledgerDir, part);
  const final = join(dirAbs, name);
  if (await exists(final)) return rel; // same ids = same segment already written: idempotent
  await mkdir(dirAbs, { recursive: true });
  const tmp = join(dirAbs, `${TMP_PREFIX}${ulid()}-${process.pid}.parquet`);
  await withConnection(async (c) => {
    await c.run("CREATE TEMP TABLE stg (id VARCHAR, ts VARCHAR, host VARCHAR, device_id VARCHAR, type VARCHAR, payload VARCHAR)");
    const app = await c.createAppender("stg", "main", "temp");
    const types = [VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR, VARCHAR];
    for (let i = 0; i < rows.length; i += CHUNK) {
      const slice = rows.slice(i, i + CHUNK);
      const chunk = DuckDBDataChunk.create(types, slice.length);
      chunk.setColumns([
        slice.map((r) => r.id),
        slice.map((r) => r.ts),
        slice.map((r) => r.host),
        slice.map((r) => r.device_id ?? null),
        slice.map((r) => r.type),
        slice.map((r) => JSON.stringify(r.payload)),
      ]);
      app.appendDataChunk(chunk);
    }
    app.closeSync();
    await c.run(
      // Rows were appended sorted by id; DuckDB keeps insertion order (preserve_insertion_order) so no ORDER BY.
      `COPY (SELECT id, ts::TIMESTAMPTZ AS ts, host, device_id, type, payload::JSON AS payload FROM stg)
       TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  });
  try {
    await fsyncPath(tmp);
    await placeSegment(tmp, final);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await fsyncPath(dirAbs);
  return rel;
}

export interface AppendResult {
  /** The segment written (the first one when the batch spanned several partitions). */
  segment: string;
  /** Every segment written, relative to the ledger dir. */
  segments: string[];
  rows: number;
}

/**
 * Validates every event (zod) and appends the batch. A batch for one host within one UTC day is exactly one
 * segment (atomic); a batch spanning days or hosts becomes one segment per partition (each atomic).
 */
export async function appendEvents(ledgerDir: string, events: readonly unknown[]): Promise<AppendResult> {
  if (events.length === 0) throw new Error("appendEvents: empty batch");
  const valid = events.map((e) => parseEvent(e));
  const seen = new Set<string>();
  const parts = new Map<string, Event[]>();
  for (const e of valid) {
    if (seen.has(e.id)) continue; // the same event twice in one batch is one event
    seen.add(e.id);
    const p = partitionDir(e.ts.slice(0, 10), e.host);
    let list = parts.get(p);
    if (!list) parts.set(p, (list = []));
    list.push(e);
  }
  const segments: string[] = [];
  for (const [p, rows] of [...parts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    segments.push(await writeSegment(ledgerDir, p, rows));
  }
  return { segment: segments[0], segments, rows: seen.size };
}
