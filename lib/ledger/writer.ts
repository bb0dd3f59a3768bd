// Appending to the ledger: one batch = one immutable Parquet segment per (UTC day, host) partition.
// Crash safety: DuckDB writes a temp file in the partition folder, we fsync it, hard-link it to its final
// name (atomic, never overwrites), unlink the temp and fsync the folder. A crash leaves either the whole
// segment or an ignored temp file, never half a segment. An id is written once: see appendEvents.
import { link, mkdir, open, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { InputError } from "../calc/types.js";
import type { Event } from "../fleet/events.js";
import { parseEvent } from "../fleet/events.js";
import { ulid } from "../fleet/ulid.js";
import { lit, withConnection } from "./duck.js";
import { storedEvents } from "./ids.js";
import { TMP_PREFIX, segmentName } from "./layout.js";
import { withLedgerLock } from "./lock.js";
import { sameEvent } from "./rows.js";
import type { StagedPart } from "./staged.js";
import { stagedEvent, stagedLines, stageEvents } from "./staged.js";

/** The column order of every segment (and of the `events` view). */
export const COLUMNS = ["id", "ts", "host", "device_id", "type", "payload"] as const;
/** Segments of one append written at once (each its own DuckDB connection and fsyncs). */
const PARALLEL_SEGMENTS = 8;

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

const STAGED_COLUMNS = "columns = {id: 'VARCHAR', ts: 'VARCHAR', host: 'VARCHAR', device_id: 'VARCHAR', type: 'VARCHAR', payload: 'JSON'}";
/** DuckDB's JSON reader refuses a line over maximum_object_size (16 MiB by default) and sizes its buffers by it. */
const JSON_READER_DEFAULT_MAX = 16 << 20;
const NEWLINE = Buffer.from("\n");

/** The rows of one segment: ids (any order) and their staged lines, as pieces of NDJSON. */
interface SegmentRows {
  ids: string[];
  pieces: Uint8Array[];
  longest: number;
}

/** Writes rows as one Parquet segment (sorted by id) into partition `part`. Returns its relative path. */
async function writeSegment(c: DuckDBConnection, ledgerDir: string, part: string, rows: SegmentRows): Promise<string> {
  const name = segmentName([...rows.ids].sort());
  const rel = `${part}/${name}`;
  const dirAbs = join(ledgerDir, part);
  const final = join(dirAbs, name);
  if (await exists(final)) return rel; // same ids = same segment already written: idempotent
  await mkdir(dirAbs, { recursive: true });
  const stem = join(dirAbs, `${TMP_PREFIX}${ulid()}-${process.pid}`);
  const tmp = `${stem}.parquet`;
  // The rows reach DuckDB as one NDJSON file that its own JSON reader parses: one write instead of a native call per
  // value (the appender's cost grew with rows × columns). No fsync: it is only read back, and a crash leaves a temp.
  const staged = `${stem}.ndjson`;
  try {
    await writeFile(staged, rows.pieces.flatMap((p, i) => (i === 0 ? [p] : [NEWLINE, p])), { mode: 0o600 });
    await c.run(
      `COPY (SELECT id, ts::TIMESTAMPTZ AS ts, host, device_id, type, payload FROM read_ndjson(${lit(staged)}, ${STAGED_COLUMNS}, maximum_object_size = ${Math.max(JSON_READER_DEFAULT_MAX, rows.longest + 1)}) ORDER BY id)
       TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  } finally {
    await unlink(staged).catch(() => undefined);
  }
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
  /** Events written now. */
  appended: number;
  /** Events not written because the same event is already in the ledger (or earlier in the batch). */
  skipped: number;
  /** The segments written, relative to the ledger dir (none when everything was already there). */
  segments: string[];
}

/** An event whose id is already in the ledger (or earlier in the batch) with other content: nothing was written. */
export class LedgerConflict extends InputError {
  override name = "LedgerConflict";
  constructor(
    readonly id: string,
    readonly differs: string,
  ) {
    super(`event ${id} is already in the ledger with another ${differs}: refusing the batch (nothing written)`);
  }
}

function difference(a: Event, b: Event): string {
  if (a.ts !== b.ts) return "ts";
  if (a.host !== b.host) return "host";
  if ((a.device_id ?? null) !== (b.device_id ?? null)) return "device_id";
  if (a.type !== b.type) return "type";
  return "payload";
}

/**
 * Validates every event (zod) and appends those not yet in the ledger. Idempotent: an event whose id is
 * already stored (in any partition) is skipped when it is the same event, and the whole batch is refused with
 * LedgerConflict when it differs. A batch for one host within one UTC day is exactly one segment (atomic); a
 * batch spanning days or hosts becomes one segment per partition (each atomic). Appenders take turns (a lock)
 * between the check and the write, so two of them never both write an id.
 */
export async function appendEvents(ledgerDir: string, events: readonly unknown[]): Promise<AppendResult> {
  return appendParsedEvents(ledgerDir, events.map((x) => parseEvent(x)));
}

/** appendEvents for events that already came out of parseEvent. */
export async function appendParsedEvents(ledgerDir: string, events: readonly Event[]): Promise<AppendResult> {
  return appendStaged(ledgerDir, stageEvents(events));
}

/**
 * appendEvents for staged events (lib/ledger/staged.ts): `hwledger serve` checks and stages each request's batch
 * as it arrives. Lines are decoded only for the events that must be compared: duplicates within the batch and
 * ids already stored.
 */
export async function appendStaged(ledgerDir: string, staged: readonly StagedPart[]): Promise<AppendResult> {
  ledgerDir = resolve(ledgerDir);
  const ids = staged.map((p) => (p.ids === "" ? [] : p.ids.split("\n")));
  const decoded: (string[] | undefined)[] = [];
  const lineOf = (k: number, i: number) => (decoded[k] ??= stagedLines(staged[k]))[i];
  /** Rows left out of each part (already stored, or repeated in the batch). */
  const dropped = staged.map(() => new Set<number>());
  const byId = new Map<string, { k: number; i: number }>();
  let skipped = 0;
  for (const [k, list] of ids.entries())
    for (const [i, id] of list.entries()) {
      const prev = byId.get(id);
      if (!prev) {
        byId.set(id, { k, i });
        continue;
      }
      const a = lineOf(prev.k, prev.i);
      const b = lineOf(k, i);
      if (a !== b && !sameEvent(stagedEvent(a), stagedEvent(b))) throw new LedgerConflict(id, difference(stagedEvent(a), stagedEvent(b)));
      dropped[k].add(i);
      skipped++;
    }
  if (byId.size + skipped === 0) throw new Error("appendEvents: empty batch");
  return withLedgerLock(ledgerDir, "append", async () => {
    const stored = await withConnection((c) => storedEvents(c, ledgerDir, [...byId.keys()]));
    for (const [id, old] of stored) {
      const { k, i } = byId.get(id)!;
      const e = stagedEvent(lineOf(k, i));
      if (!sameEvent(old, e)) throw new LedgerConflict(id, difference(old, e));
      dropped[k].add(i);
      skipped++;
    }
    const parts = new Map<string, SegmentRows>();
    for (const [k, p] of staged.entries()) {
      let rows = parts.get(p.part);
      if (!rows) parts.set(p.part, (rows = { ids: [], pieces: [], longest: 0 }));
      rows.longest = Math.max(rows.longest, p.longest);
      if (dropped[k].size === 0) {
        for (const id of ids[k]) rows.ids.push(id);
        rows.pieces.push(p.lines);
        continue;
      }
      const kept = ids[k].flatMap((id, i) => (dropped[k].has(i) ? [] : [i]));
      if (kept.length === 0) continue;
      for (const i of kept) rows.ids.push(ids[k][i]);
      rows.pieces.push(Buffer.from(kept.map((i) => lineOf(k, i)).join("\n")));
    }
    for (const [p, rows] of parts) if (rows.ids.length === 0) parts.delete(p);
    // Partitions are independent files: a batch of many hosts (`hwledger serve`'s group commit) writes several at
    // once, so one segment's fsync does not wait for the last one's.
    const todo = [...parts].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const segments: string[] = new Array(todo.length);
    let next = 0;
    let stop = false;
    const worker = () => withConnection(async (c) => {
      for (let i = next++; i < todo.length && !stop; i = next++) {
        const [p, rows] = todo[i];
        try {
          segments[i] = await writeSegment(c, ledgerDir, p, rows);
        } catch (e) {
          stop = true;
          throw e;
        }
      }
    });
    // Every writer has finished before the lock is let go, even when one of them failed.
    const done = await Promise.allSettled(Array.from({ length: Math.min(PARALLEL_SEGMENTS, todo.length) }, worker));
    const failed = done.find((d): d is PromiseRejectedResult => d.status === "rejected");
    if (failed) throw failed.reason;
    return { appended: byId.size - stored.size, skipped, segments };
  });
}
