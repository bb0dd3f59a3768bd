// Which segments make up the ledger, and whether a segment is sound. A segment is judged only by reading the
// segment itself (magic bytes, Parquet footer and schema, every value, JSON payloads): never from the text of
// some query's error, which any SQL can make name any file.
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { lit } from "./duck.js";
import { LISTINGS_AT_ONCE, scanLedger } from "./layout.js";
import { mapLimit } from "../pool.js";
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
const footerChecked = new Set<string>();
const fullyChecked = new Set<string>();

/** Identity of a segment file's content: path, size and mtime (null when it is gone). */
export async function fileKey(abs: string): Promise<string | null> {
  const st = await stat(abs).catch(() => null);
  return st ? `${abs}:${st.size}:${st.mtimeMs}` : null;
}

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

/** The segments a reader sees: every finished segment not replaced by a compacted one. No side effects. */
export async function liveSegments(ledgerDir: string): Promise<SegmentFile[]> {
  return (await stableSegments(ledgerDir)).map((x) => x.seg);
}

/**
 * The live segments with each file's identity, from a listing no compaction or repair changed while it was
 * taken: when a listed segment is gone by the time it is looked at, a rewrite retired it and the segment that
 * replaced it may be missing from the listing, so the listing is taken again.
 */
export async function stableSegments(ledgerDir: string): Promise<{ seg: SegmentFile; abs: string; key: string }[]> {
  for (let attempt = 1; ; attempt++) {
    const scan = await scanLedger(ledgerDir);
    const hidden = replacedBy(await readManifests(ledgerDir), new Set(scan.segments.map((s) => s.rel)));
    const out: { seg: SegmentFile; abs: string; key: string }[] = [];
    let gone = false;
    const live = scan.segments.filter((seg) => !hidden.has(seg.rel));
    const keys = await mapLimit(live, LISTINGS_AT_ONCE, (seg) => fileKey(join(ledgerDir, seg.rel)));
    for (const [i, seg] of live.entries()) {
      if (keys[i]) out.push({ seg, abs: join(ledgerDir, seg.rel), key: keys[i] });
      else gone = true;
    }
    if (!gone || attempt >= 50) return out;
  }
}

export type SegmentHealth =
  | { ok: true }
  /** Not a readable ledger segment at all: quarantine it whole. */
  | { ok: false; corrupt: string }
  /** Readable, but these rows' payloads are not JSON: keep the other rows. */
  | { ok: false; badRows: string[]; reason: string };

/** Footer and schema of one segment (cheap: reads the footer only). */
async function footerHealth(c: DuckDBConnection, abs: string): Promise<SegmentHealth> {
  if (!(await hasParquetMagic(abs))) return { ok: false, corrupt: "not a Parquet file (no PAR1 magic)" };
  let cols: string[];
  try {
    const r = await c.runAndReadAll(`SELECT name || ':' || type AS col FROM parquet_schema(${lit(abs)}) WHERE num_children IS NULL`);
    cols = r.getRowObjectsJS().map((row) => String(row.col));
  } catch (e) {
    return { ok: false, corrupt: `unreadable Parquet footer (${String((e as Error).message).split("\n")[0]})` };
  }
  return schemaHealth(cols);
}

function schemaHealth(cols: string[]): SegmentHealth {
  const got = Object.fromEntries(cols.map((x) => x.split(":") as [string, string]));
  const ok = cols.length === 6 && Object.entries(EXPECTED).every(([k, v]) => got[k] === v);
  return ok ? { ok: true } : { ok: false, corrupt: `foreign Parquet schema (${cols.join(", ")})` };
}

/**
 * Reads one segment entirely: footer, schema, every value of every column, and each payload as JSON. Cached by
 * file identity, so each segment is read in full at most once per process.
 */
export async function checkSegment(c: DuckDBConnection, abs: string): Promise<SegmentHealth> {
  const key = await fileKey(abs);
  if (key && fullyChecked.has(key)) return { ok: true };
  const footer = await footerHealth(c, abs);
  if (!footer.ok) return footer;
  try {
    const r = await c.runAndReadAll(
      `SELECT sum(length(id) + length(host) + length(type) + coalesce(length(device_id), 0) + epoch_us(ts) % 2) AS n,
              list(id) FILTER (WHERE NOT json_valid(payload::VARCHAR)) AS bad
       FROM read_parquet(${lit(abs)})`,
    );
    const bad = (r.getRowObjectsJS()[0]?.bad as string[] | null) ?? [];
    if (bad.length) return { ok: false, badRows: bad, reason: "payload is not JSON" };
  } catch (e) {
    return { ok: false, corrupt: `unreadable data (${String((e as Error).message).split("\n")[0]})` };
  }
  if (key) fullyChecked.add(key);
  return { ok: true };
}

/**
 * The live segments, after moving aside what is not a ledger segment: foreign files in the tree and files
 * whose magic, footer or schema is wrong (checked once per file and process, the footer only; new files in one
 * pass, and one by one only when that pass fails).
 */
export async function validSegments(c: DuckDBConnection, ledgerDir: string): Promise<SegmentFile[]> {
  const scan = await scanLedger(ledgerDir);
  for (const f of scan.foreign) await quarantine(ledgerDir, f, "not a ledger segment");
  const out: SegmentFile[] = [];
  const fresh: { seg: SegmentFile; abs: string; key: string }[] = [];
  for (const s of await stableSegments(ledgerDir)) {
    if (footerChecked.has(s.key)) out.push(s.seg);
    else fresh.push(s);
  }
  if (fresh.length === 0) return out;
  let cols: Map<string, string[]> | null = null;
  try {
    const r = await c.runAndReadAll(
      `SELECT file_name, list(name || ':' || type) AS cols FROM parquet_schema([${fresh.map((f) => lit(f.abs)).join(",")}])
       WHERE num_children IS NULL GROUP BY file_name`,
    );
    cols = new Map(r.getRowObjectsJS().map((row) => [String(row.file_name), (row.cols as string[]) ?? []]));
  } catch {
    // Some file's footer is unreadable (or a file vanished): judge each file by itself below.
  }
  for (const f of fresh) {
    let h: SegmentHealth | null;
    if (cols && (await hasParquetMagic(f.abs).catch(() => false))) h = schemaHealth(cols.get(f.abs) ?? []);
    else h = await footerHealth(c, f.abs).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? null : Promise.reject(e)));
    if (!h) continue;
    if (!h.ok) {
      await quarantine(ledgerDir, f.seg.rel, "corrupt" in h ? h.corrupt : h.reason);
      continue;
    }
    footerChecked.add(f.key);
    out.push(f.seg);
  }
  return out.sort((a, b) => (a.rel < b.rel ? -1 : 1));
}

/** True when every segment still exists unchanged (a failed read over them is then not a race with compaction). */
export async function unchanged(ledgerDir: string, segs: readonly SegmentFile[], keys: Map<string, string | null>): Promise<boolean> {
  for (const s of segs) {
    const k = await fileKey(join(ledgerDir, s.rel));
    if (k === null || k !== keys.get(s.rel)) return false;
  }
  return true;
}

export async function keysOf(ledgerDir: string, segs: readonly SegmentFile[]): Promise<Map<string, string | null>> {
  const m = new Map<string, string | null>();
  for (const s of segs) m.set(s.rel, await fileKey(join(ledgerDir, s.rel)));
  return m;
}
