// Appending to the ledger: one batch = one immutable Parquet segment per (UTC day, host) partition.
// Crash safety: DuckDB writes the segments into a temp folder of the ledger, we fsync each, hard-link it to its
// final name (atomic, never overwrites), fsync the partition folder and remove the temp folder. A crash leaves
// either the whole segment or an ignored temp folder, never half a segment. An id is written once: see appendEvents.
import { link, mkdir, open, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { InputError } from "../calc/types.js";
import type { Event } from "../fleet/events.js";
import { parseEvent } from "../fleet/events.js";
import { ulid } from "../fleet/ulid.js";
import { lit, withConnection } from "./duck.js";
import { storedEvents } from "./ids.js";
import { LISTINGS_AT_ONCE, TMP_PREFIX, segmentName } from "./layout.js";
import { mapLimit } from "../pool.js";
import { withLedgerLock } from "./lock.js";
import { sameEvent } from "./rows.js";
import type { StagedPart } from "./staged.js";
import { stagedEvent, stagedLines, stageEvents } from "./staged.js";

/** The column order of every segment (and of the `events` view). */
export const COLUMNS = ["id", "ts", "host", "device_id", "type", "payload"] as const;

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

/** The rows of one segment: ids and their staged lines, as pieces of NDJSON. */
interface SegmentRows {
  ids: string[];
  pieces: Uint8Array[];
  longest: number;
}

/** Partitions written by one DuckDB COPY (each an open file while it runs). */
const PARTITIONS_PER_COPY = 256;

/**
 * Writes each partition's rows as one Parquet segment. All of them go through one DuckDB COPY … PARTITION_BY into
 * a staging folder (one statement instead of one per partition: most of a COPY's cost is per statement), then each
 * file is fsynced and linked to its content-addressed name in its partition. Returns the segments' relative paths.
 */
async function writeSegments(c: DuckDBConnection, ledgerDir: string, todo: readonly (readonly [string, SegmentRows])[]): Promise<string[]> {
  const segs = todo.map(([part, rows]) => {
    const name = segmentName([...rows.ids].sort());
    return { part, rows, rel: `${part}/${name}`, final: join(ledgerDir, part, name) };
  });
  // Same ids = same segment already written (a resend after a lost answer): idempotent.
  const done = await mapLimit(segs, LISTINGS_AT_ONCE, (s) => exists(s.final));
  const fresh = segs.filter((_, i) => !done[i]);
  for (let i = 0; i < fresh.length; i += PARTITIONS_PER_COPY) await copyPartitions(c, ledgerDir, fresh.slice(i, i + PARTITIONS_PER_COPY));
  return segs.map((s) => s.rel);
}

async function copyPartitions(c: DuckDBConnection, ledgerDir: string, segs: readonly { part: string; rows: SegmentRows; final: string }[]): Promise<void> {
  // A folder of the ledger (hard links need the same file system) that readers ignore and compaction clears after
  // a crash. The staged NDJSON is never fsynced: it is only read back.
  const stage = join(ledgerDir, `${TMP_PREFIX}${ulid()}-${process.pid}`);
  await mkdir(stage, { recursive: true });
  try {
    const files = segs.map((_, k) => join(stage, `${k}.ndjson`));
    await mapLimit(segs, LISTINGS_AT_ONCE, (s, k) => writeFile(files[k], s.rows.pieces.flatMap((p, i) => (i === 0 ? [p] : [NEWLINE, p])), { mode: 0o600 }));
    const longest = segs.reduce((m, s) => Math.max(m, s.rows.longest), 0);
    const out = join(stage, "out");
    const single = segs.length === 1;
    // With several partitions, the staged file's number is the partition key (DuckDB leaves it out of the files).
    const rows = `SELECT id, ts::TIMESTAMPTZ AS ts, host, device_id, type, payload${single ? "" : ", parse_filename(filename, true) AS staged"}
      FROM read_ndjson([${files.map(lit).join(",")}], ${STAGED_COLUMNS}, filename = ${!single}, maximum_object_size = ${Math.max(JSON_READER_DEFAULT_MAX, longest + 1)})`;
    // One partition (a single host's batch) is a plain COPY, which DuckDB writes faster than a partitioned one.
    await c.run(`COPY (${rows}) TO ${lit(single ? `${out}.parquet` : out)} (FORMAT parquet, COMPRESSION zstd${single ? "" : ", PARTITION_BY (staged)"})`);
    const placed = await mapLimit(segs, LISTINGS_AT_ONCE, async (s, k) => {
      try {
        let tmp = `${out}.parquet`;
        if (!single) {
          const dir = join(out, `staged=${k}`);
          const written = await readdir(dir);
          if (written.length !== 1) throw new Error(`ledger write: DuckDB wrote ${written.length} files for one partition`);
          tmp = join(dir, written[0]);
        }
        await fsyncPath(tmp);
        const dirAbs = join(ledgerDir, s.part);
        await mkdir(dirAbs, { recursive: true });
        await placeSegment(tmp, s.final);
        await fsyncPath(dirAbs);
        return null;
      } catch (e) {
        return e; // every placement ends before the staging folder goes
      }
    });
    const failed = placed.find((e) => e !== null);
    if (failed) throw failed;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
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
  return appendStaged(ledgerDir, stageEvents(events.map((x) => parseEvent(x))));
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
  const dropped: (Set<number> | undefined)[] = [];
  const drop = (k: number, i: number) => (dropped[k] ??= new Set()).add(i);
  /** The row an id was first seen at: the one kept (indexed only once some id must be looked at again). */
  let firstSeen: Map<string, { k: number; i: number }> | undefined;
  const keptAt = (id: string) => {
    if (!firstSeen) {
      firstSeen = new Map();
      for (let k = 0; k < ids.length; k++) for (let i = 0; i < ids[k].length; i++) if (!firstSeen.has(ids[k][i])) firstSeen.set(ids[k][i], { k, i });
    }
    return firstSeen.get(id)!;
  };
  const unique = new Set<string>();
  let skipped = 0;
  for (let k = 0; k < ids.length; k++) {
    const list = ids[k];
    for (let i = 0; i < list.length; i++) {
      const id = list[i];
      const before = unique.size;
      if (unique.add(id).size !== before) continue;
      const prev = keptAt(id);
      const a = lineOf(prev.k, prev.i);
      const b = lineOf(k, i);
      if (a !== b && !sameEvent(stagedEvent(a), stagedEvent(b))) throw new LedgerConflict(id, difference(stagedEvent(a), stagedEvent(b)));
      drop(k, i);
      skipped++;
    }
  }
  if (unique.size === 0) throw new Error("appendEvents: empty batch");
  return withLedgerLock(ledgerDir, "append", async () => {
    const stored = await withConnection((c) => storedEvents(c, ledgerDir, [...unique]));
    for (const [id, old] of stored) {
      const { k, i } = keptAt(id);
      const e = stagedEvent(lineOf(k, i));
      if (!sameEvent(old, e)) throw new LedgerConflict(id, difference(old, e));
      drop(k, i);
      skipped++;
    }
    const parts = new Map<string, SegmentRows>();
    for (const [k, p] of staged.entries()) {
      let rows = parts.get(p.part);
      if (!rows) parts.set(p.part, (rows = { ids: [], pieces: [], longest: 0 }));
      rows.longest = Math.max(rows.longest, p.longest);
      const out = dropped[k];
      if (!out) {
        for (const id of ids[k]) rows.ids.push(id);
        rows.pieces.push(p.lines);
        continue;
      }
      const kept = ids[k].flatMap((_, i) => (out.has(i) ? [] : [i]));
      if (kept.length === 0) continue;
      for (const i of kept) rows.ids.push(ids[k][i]);
      rows.pieces.push(Buffer.from(kept.map((i) => lineOf(k, i)).join("\n")));
    }
    for (const [p, rows] of parts) if (rows.ids.length === 0) parts.delete(p);
    const todo = [...parts].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const segments = await withConnection((c) => writeSegments(c, ledgerDir, todo));
    return { appended: unique.size - stored.size, skipped, segments };
  });
}
