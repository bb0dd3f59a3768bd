// Reading the ledger: the view `events` (id, ts, host, device_id, type, payload JSON) over every valid
// segment. Files that are not ours or not readable are quarantined first, so one bad file never stops a query.
import { open, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { DuckDBConnection, DuckDBResultReader } from "@duckdb/node-api";
import { InputError } from "../calc/types.js";
import type { Event } from "../fleet/events.js";
import { parseEvent } from "../fleet/events.js";
import { lit, withConnection } from "./duck.js";
import { scanLedger } from "./layout.js";
import type { SegmentFile } from "./layout.js";
import { readManifests, replacedBy } from "./manifests.js";
import { quarantine } from "./quarantine.js";

// Parquet physical types of a segment's columns, as DuckDB's parquet_schema() reports them.
const EXPECTED: Record<string, string> = {
  id: "BYTE_ARRAY",
  ts: "INT64",
  host: "BYTE_ARRAY",
  device_id: "BYTE_ARRAY",
  type: "BYTE_ARRAY",
  payload: "BYTE_ARRAY",
};

// Segments are immutable: a file checked once (same path, size, mtime) need not be checked again.
const checked = new Set<string>();

async function hasParquetMagic(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    if (size < 12) return false;
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    await fh.read(tail, 0, 4, size - 4);
    return head.toString("latin1") === "PAR1" && tail.toString("latin1") === "PAR1";
  } finally {
    await fh.close();
  }
}

/** The file a DuckDB error names, if it is one of the given segments. */
function segmentInError(msg: string, ledgerDir: string, segs: SegmentFile[]): SegmentFile | undefined {
  return segs.find((s) => msg.includes(join(ledgerDir, s.rel)));
}

/** The segments DuckDB cannot read: their footer only, or every value of every column. */
async function unreadable(c: DuckDBConnection, ledgerDir: string, segs: SegmentFile[], depth: "footer" | "full"): Promise<SegmentFile[]> {
  const bad: SegmentFile[] = [];
  for (const s of segs) {
    const f = lit(join(ledgerDir, s.rel));
    const sql =
      depth === "footer"
        ? `SELECT count(*) FROM parquet_schema(${f})`
        : `SELECT sum(length(id) + length(host) + length(type) + coalesce(length(device_id), 0) + length(payload::VARCHAR) + epoch_us(ts) % 2) FROM read_parquet(${f})`;
    await c.run(sql).catch(() => bad.push(s));
  }
  return bad;
}

/** DuckDB's error messages: "<Kind> Error: reason". */
const DUCK_ERROR = /^[A-Za-z ]+ Error: /;

/** Errors that are the query's fault, never the data's. */
const QUERY_ERROR = /^(Parser|Binder|Catalog|Syntax|Not implemented|Dependency|Permission|Conversion|Out of Range|Mismatch Type|Interrupt) Error/;

/** Scans, quarantines what is not a valid segment, and returns the valid segments. */
export async function validSegments(c: DuckDBConnection, ledgerDir: string): Promise<SegmentFile[]> {
  const scan = await scanLedger(ledgerDir);
  for (const f of scan.foreign) await quarantine(ledgerDir, f, "not a ledger segment");
  const hidden = replacedBy(await readManifests(ledgerDir), new Set(scan.segments.map((s) => s.rel)));
  let segs: SegmentFile[] = [];
  const fresh: { seg: SegmentFile; key: string }[] = [];
  for (const s of scan.segments) {
    if (hidden.has(s.rel)) continue; // a compacted segment holds these rows
    const abs = join(ledgerDir, s.rel);
    const st = await stat(abs).catch(() => null);
    if (!st) continue; // compacted or quarantined meanwhile
    const key = `${abs}:${st.size}:${st.mtimeMs}`;
    if (checked.has(key)) {
      segs.push(s);
      continue;
    }
    if (!(await hasParquetMagic(abs))) {
      await quarantine(ledgerDir, s.rel, "not a Parquet file (no PAR1 magic)");
      continue;
    }
    fresh.push({ seg: s, key });
    segs.push(s);
  }
  // Schema check of the new files in one pass over their footers; a footer DuckDB cannot read is named in
  // its error: quarantine that file and check the rest again.
  let pending = fresh;
  for (let attempt = 0; pending.length > 0 && attempt <= pending.length; attempt++) {
    const list = `[${pending.map((p) => lit(join(ledgerDir, p.seg.rel))).join(",")}]`;
    try {
      const r = await c.runAndReadAll(
        `SELECT file_name, list(name || ':' || type) AS cols FROM parquet_schema(${list}) WHERE num_children IS NULL GROUP BY file_name`,
      );
      const byFile = new Map<string, string[]>();
      for (const row of r.getRowObjectsJS()) byFile.set(String(row.file_name), (row.cols as string[]) ?? []);
      for (const p of pending) {
        const cols = byFile.get(join(ledgerDir, p.seg.rel)) ?? [];
        const got = Object.fromEntries(cols.map((x) => x.split(":") as [string, string]));
        const ok = cols.length === 6 && Object.entries(EXPECTED).every(([k, v]) => got[k] === v);
        if (ok) checked.add(p.key);
        else {
          await quarantine(ledgerDir, p.seg.rel, `foreign Parquet schema (${cols.join(", ")})`);
          segs = segs.filter((s) => s !== p.seg);
        }
      }
      pending = [];
    } catch (e) {
      const msg = (e as Error).message;
      const named = segmentInError(msg, ledgerDir, pending.map((p) => p.seg));
      // DuckDB does not always name the file (e.g. "Variable-length int over 10 bytes"): check one by one.
      const bad = named ? [named] : await unreadable(c, ledgerDir, pending.map((p) => p.seg), "footer");
      if (bad.length === 0) throw e;
      for (const b of bad) await quarantine(ledgerDir, b.rel, msg);
      pending = pending.filter((p) => !bad.includes(p.seg));
      segs = segs.filter((s) => !bad.includes(s));
    }
  }
  return segs;
}

const EMPTY_VIEW =
  "SELECT NULL::VARCHAR AS id, NULL::TIMESTAMPTZ AS ts, NULL::VARCHAR AS host, NULL::VARCHAR AS device_id, NULL::VARCHAR AS type, NULL::JSON AS payload WHERE false";

async function createView(c: DuckDBConnection, ledgerDir: string, segs: SegmentFile[]): Promise<void> {
  const files = `[${segs.map((s) => lit(join(ledgerDir, s.rel))).join(",")}]`;
  const hive = "hive_partitioning = true, hive_types = {'dt': DATE, 'host': VARCHAR}";
  const cols = "id, ts, host, device_id, type, payload";
  await c.run(`CREATE OR REPLACE TEMP VIEW events AS ${segs.length ? `SELECT ${cols} FROM read_parquet(${files}, ${hive})` : EMPTY_VIEW}`);
  // The same rows plus the segment each came from (for readers that must point at a bad file).
  await c.run(
    `CREATE OR REPLACE TEMP VIEW events_files AS ${segs.length ? `SELECT ${cols}, filename FROM read_parquet(${files}, ${hive}, filename = true)` : `SELECT *, NULL::VARCHAR AS filename FROM (${EMPTY_VIEW})`}`,
  );
}

/**
 * Runs fn with a connection on which the view `events` covers the ledger. A segment that turns out to be
 * corrupt while fn runs (DuckDB names it in the error) is quarantined and fn is retried.
 */
export async function withLedger<T>(ledgerDir: string, fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  ledgerDir = resolve(ledgerDir);
  return withConnection(async (c) => {
    await c.run("SET TimeZone = 'UTC'");
    for (let attempt = 0; ; attempt++) {
      const segs = await validSegments(c, ledgerDir);
      await createView(c, ledgerDir, segs);
      try {
        return await fn(c);
      } catch (e) {
        const msg = String((e as Error)?.message ?? e);
        if (attempt >= 10 || QUERY_ERROR.test(msg)) throw e;
        const named = segmentInError(msg, ledgerDir, segs);
        const bad = named ? [named] : await unreadable(c, ledgerDir, segs, "full");
        if (bad.length === 0) throw e;
        for (const b of bad) await quarantine(ledgerDir, b.rel, msg);
      }
    }
  });
}

/** JSON-safe values: BigInt -> number when exact, else string; dates -> ISO strings; JSON columns parsed. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

function rowsOf(r: DuckDBResultReader): Record<string, unknown>[] {
  const names = r.columnNames();
  const types = r.columnTypes();
  const isJson = names.map((_, i) => types[i].alias === "JSON");
  return r.getRowObjectsJS().map((row) => {
    const out: Record<string, unknown> = {};
    names.forEach((n, i) => {
      const v = row[n];
      out[n] = isJson[i] && typeof v === "string" ? JSON.parse(v) : jsonSafe(v);
    });
    return out;
  });
}

/** First line of a DuckDB error: what the CLI prints. */
export function duckReason(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0];
}

/**
 * Runs SQL over the view `events`; returns JSON-safe row objects. Bad SQL throws InputError with DuckDB's
 * one-line reason.
 */
export async function queryLedger(ledgerDir: string, sql: string): Promise<Record<string, unknown>[]> {
  ledgerDir = resolve(ledgerDir);
  if (!sql.trim()) throw new InputError("empty SQL");
  try {
    // withLedger quarantines a damaged segment behind an error and retries; what remains is the query's fault.
    return await withLedger(ledgerDir, async (c) => rowsOf(await c.runAndReadAll(sql)));
  } catch (e) {
    if (DUCK_ERROR.test(String((e as Error)?.message))) throw new InputError(duckReason(e));
    throw e;
  }
}

/** Reads events back as validated Event objects (zod); a segment holding an invalid row is quarantined. `where` is trusted SQL over the events columns. */
export async function readEvents(ledgerDir: string, where = "true"): Promise<Event[]> {
  ledgerDir = resolve(ledgerDir);
  for (;;) {
    const bad = new Map<string, string>();
    const events = await withLedger(ledgerDir, async (c) => {
      const r = await c.runAndReadAll(
        `SELECT id, ts, host, device_id, type, payload::VARCHAR AS payload, filename FROM events_files WHERE ${where} ORDER BY id`,
      );
      const out: Event[] = [];
      for (const row of r.getRowObjectsJS()) {
        try {
          out.push(
            parseEvent({
              id: row.id,
              ts: (row.ts as Date).toISOString(),
              host: row.host,
              device_id: row.device_id,
              type: row.type,
              payload: JSON.parse(String(row.payload)),
            }),
          );
        } catch (e) {
          bad.set(String(row.filename), (e as Error).message);
        }
      }
      return out;
    });
    if (bad.size === 0) return events;
    for (const [file, why] of bad) await quarantine(ledgerDir, file.slice(ledgerDir.length + 1), why);
  }
}
