// Reading the ledger: the view `events` (id, ts, host, device_id, type, payload JSON) over the live segments, on
// a read-only DuckDB (duck.ts). What is not a segment is moved aside first; when a read fails, the segments are
// judged by reading each one itself (segments.ts), and only a segment proven unreadable is quarantined; a segment
// with a few invalid rows is repaired (its valid rows kept). A read that raced with compaction (a listed segment
// was retired under it) simply runs again on the new set.
import { join, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { InputError } from "../calc/types.js";
import type { Event } from "../fleet/events.js";
import { lit, readOnlyInstance, withConnection } from "./duck.js";
import type { ReadOnlyScope } from "./duck.js";
import type { SegmentFile } from "./layout.js";
import { quarantine } from "./quarantine.js";
import { repairSegment } from "./rewrite.js";
import { ROW_SQL, eventFromRow } from "./rows.js";
import { checkSegment, keysOf, unchanged, validSegments } from "./segments.js";

/** How often a read is tried again after a race with compaction or after moving a bad segment aside. */
const ATTEMPTS = 20;

const EMPTY_VIEW =
  "SELECT NULL::VARCHAR AS id, NULL::TIMESTAMPTZ AS ts, NULL::VARCHAR AS host, NULL::VARCHAR AS device_id, NULL::VARCHAR AS type, NULL::JSON AS payload WHERE false";
const HIVE = "hive_partitioning = true, hive_types = {'dt': DATE, 'host': VARCHAR}";
const COLS = "id, ts, host, device_id, type, payload";

function files(ledgerDir: string, segs: readonly SegmentFile[]): string {
  return `[${segs.map((s) => lit(join(ledgerDir, s.rel))).join(",")}]`;
}

async function createView(c: DuckDBConnection, ledgerDir: string, segs: readonly SegmentFile[]): Promise<void> {
  await c.run(`CREATE OR REPLACE TEMP VIEW events AS ${segs.length ? `SELECT ${COLS} FROM read_parquet(${files(ledgerDir, segs)}, ${HIVE})` : EMPTY_VIEW}`);
}

/**
 * A read given up at its time limit. DuckDB notices an interrupt only between vectors (one huge value can take
 * many seconds more), so the read is abandoned: its connection is left to finish on its own (closing it would wait
 * for the query), and a CLI should exit rather than wait for it.
 */
export class QueryTimeLimit extends InputError {
  override name = "QueryTimeLimit";
}

/** DuckDB's error messages: "<Kind> Error: reason". */
export const DUCK_ERROR = /^[A-Za-z ]+ Error: /;

/** Errors that are the query's fault (or its limits'), never the data's. */
const QUERY_ERROR =
  /^(Parser|Binder|Catalog|Syntax|Not implemented|Dependency|Permission|Conversion|Out of Range|Mismatch Type|Interrupt|INTERRUPT|Out of Memory) Error/;

/**
 * Judges each segment of a failed read by reading it itself; quarantines the unreadable ones and repairs those
 * with rows whose payload is not JSON. True when it moved or repaired something (the read is then worth retrying).
 */
async function settleBadSegments(ledgerDir: string, segs: readonly SegmentFile[]): Promise<boolean> {
  let acted = false;
  await withConnection(async (c) => {
    for (const s of segs) {
      const h = await checkSegment(c, join(ledgerDir, s.rel)).catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return null; // retired meanwhile: the read is worth retrying
        throw e;
      });
      if (!h) {
        acted = true;
        continue;
      }
      if (h.ok) continue;
      if ("corrupt" in h) {
        if (await quarantine(ledgerDir, s.rel, h.corrupt)) acted = true;
      } else {
        await repairSegment(ledgerDir, s, new Set(h.badRows), h.reason);
        acted = true;
      }
    }
  });
  return acted;
}

export interface ReadOptions {
  /** Folders and files outside the ledger that SQL may read (absolute). Nothing else outside it is readable. */
  allowDirs?: string[];
  allowFiles?: string[];
  /** DuckDB memory limit for the read, e.g. "512MB". */
  memoryLimit?: string;
}

/**
 * Runs fn with a read-only connection on which the view `events` covers the ledger's live segments (also passed
 * to fn). fn may run more than once (after a race with compaction, or after a bad segment was moved aside).
 */
export async function withLedger<T>(
  ledgerDir: string,
  fn: (c: DuckDBConnection, segs: readonly SegmentFile[]) => Promise<T>,
  opts: ReadOptions = {},
): Promise<T> {
  ledgerDir = resolve(ledgerDir);
  const scope: ReadOnlyScope = { dirs: [ledgerDir, ...(opts.allowDirs ?? [])], files: opts.allowFiles, memoryLimit: opts.memoryLimit };
  const db = await readOnlyInstance(scope);
  for (let attempt = 1; ; attempt++) {
    const c = await db.connect();
    let abandoned = false;
    let segs: SegmentFile[] | undefined;
    let keys = new Map<string, string | null>();
    try {
      // Footers are checked on the query's own instance: DuckDB then has them cached for the query.
      segs = await validSegments(c, ledgerDir);
      keys = await keysOf(ledgerDir, segs);
      if ([...keys.values()].includes(null) && attempt < ATTEMPTS) continue; // retired since listed: list again
      await createView(c, ledgerDir, segs);
      return await fn(c, segs);
    } catch (e) {
      abandoned = e instanceof QueryTimeLimit;
      if (attempt >= ATTEMPTS || !segs) throw e;
      if (!(await unchanged(ledgerDir, segs, keys))) continue; // compaction retired a segment under us: read again
      if (e instanceof InputError || QUERY_ERROR.test(String((e as Error)?.message))) throw e;
      if (process.env.HWLEDGER_DEBUG) process.stderr.write(`hwledger: read failed, checking its segments: ${String((e as Error)?.message).split("\n")[0]}\n`);
      if (!(await settleBadSegments(ledgerDir, segs))) throw e;
    } finally {
      if (!abandoned) c.closeSync();
    }
  }
}

/**
 * Reads events back as validated Event objects (zod), sorted by id. `where` is trusted SQL over the events
 * columns. A row that fails the schema is left out, and its segment repaired: the valid rows stay, the original
 * segment goes to _quarantine.
 */
export async function readEvents(ledgerDir: string, where = "true"): Promise<Event[]> {
  ledgerDir = resolve(ledgerDir);
  const bad = new Map<string, { seg: SegmentFile; ids: Set<string>; why: string }>();
  const events = await withLedger(ledgerDir, async (c, segs) => {
    bad.clear();
    if (segs.length === 0) return [];
    const byFile = new Map(segs.map((s) => [join(ledgerDir, s.rel), s]));
    const res = await c.stream(
      `SELECT ${ROW_SQL}, filename FROM read_parquet(${files(ledgerDir, segs)}, ${HIVE}, filename = true) WHERE ${where} ORDER BY id`,
    );
    const out: Event[] = [];
    for await (const rows of res.yieldRowObjectJs()) {
      for (const row of rows) {
        try {
          out.push(eventFromRow(row));
        } catch (e) {
          const seg = byFile.get(String(row.filename));
          if (!seg) throw e;
          const b = bad.get(seg.rel) ?? { seg, ids: new Set<string>(), why: (e as Error).message };
          b.ids.add(String(row.id));
          bad.set(seg.rel, b);
        }
      }
    }
    return out;
  });
  for (const b of bad.values()) await repairSegment(ledgerDir, b.seg, b.ids, b.why);
  return events;
}
