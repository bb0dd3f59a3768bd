// Rewriting segments: one partition's segments become one new segment holding their rows once each, minus rows
// that failed validation. Compaction merges this way, and a segment with a few bad rows is repaired this way
// (its valid rows kept, the original moved to _quarantine whole: nothing is lost). Every crash point is safe:
// the new segment is written and fsynced under a temp name, the manifest is written (readers hide the sources
// as soon as the new segment exists), the segment is linked into place, then the sources go. A later compaction
// rolls an interrupted rewrite forward. Callers hold LOCKS.rewrite.
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { ulid } from "../fleet/ulid.js";
import { lit, withConnection } from "./duck.js";
import { TMP_PREFIX, segmentName } from "./layout.js";
import type { SegmentFile } from "./layout.js";
import { readManifests, writeManifest } from "./manifests.js";
import type { Manifest } from "./manifests.js";
import { quarantine } from "./quarantine.js";
import { fileKey, liveSegments } from "./segments.js";
import { withLedgerLock } from "./lock.js";
import { fsyncPath, placeSegment } from "./writer.js";

export async function unlinkIfThere(path: string): Promise<boolean> {
  return unlink(path).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return false;
      throw e;
    },
  );
}

/** Removes a replaced source: deleted, or moved to _quarantine when it held rows that were dropped. */
export async function retire(ledgerDir: string, rel: string, dirty: boolean, why: string): Promise<boolean> {
  if (dirty) return (await quarantine(ledgerDir, rel, why)) !== null;
  return unlinkIfThere(join(ledgerDir, rel));
}

export interface Rewritten {
  /** The new segment (relative path), or null when no valid row was left. */
  rel: string | null;
  rows: number;
}

/**
 * Writes the rows of `sources` (all in partition `part`), each id once and without the ids in `drop`, as one
 * segment; then retires the sources (those in `dirty` to quarantine, with `why`).
 */
export async function rewriteSegments(
  c: DuckDBConnection,
  ledgerDir: string,
  part: string,
  sources: readonly SegmentFile[],
  drop: ReadonlySet<string>,
  dirty: ReadonlySet<string>,
  why: string,
): Promise<Rewritten> {
  const bySegment = new Map((await readManifests(ledgerDir)).map((m) => [m.segment, m]));
  const src = `read_parquet([${sources.map((s) => lit(join(ledgerDir, s.rel))).join(",")}], hive_partitioning = false)`;
  await c.run("CREATE OR REPLACE TEMP TABLE dropped (id VARCHAR)");
  if (drop.size) await c.run(`INSERT INTO dropped VALUES ${[...drop].map((id) => `(${lit(id)})`).join(",")}`);
  const keep = `${src} WHERE id NOT IN (SELECT id FROM dropped)`;
  const ids = ((await c.runAndReadAll(`SELECT DISTINCT id FROM ${keep} ORDER BY id`)).getColumnsJS()[0] ?? []) as string[];
  if (ids.length === 0) {
    for (const s of sources) await retire(ledgerDir, s.rel, dirty.has(s.rel), why);
    return { rel: null, rows: 0 };
  }
  const rel = `${part}/${segmentName(ids)}`;
  const dirAbs = join(ledgerDir, part);
  const tmp = join(dirAbs, `${TMP_PREFIX}${ulid()}-${process.pid}.parquet`);
  try {
    // One row per id (a duplicate can only be the same event written twice; appends refuse conflicts).
    await c.run(
      `COPY (SELECT id, ts, host, device_id, type, payload FROM ${keep}
             QUALIFY row_number() OVER (PARTITION BY id) = 1 ORDER BY id)
       TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const written = Number((await c.runAndReadAll(`SELECT count(*) FROM read_parquet(${lit(tmp)})`)).getColumnsJS()[0][0]);
    if (written !== ids.length) throw new Error(`rewrite ${part}: wrote ${written} rows, expected ${ids.length}`);
    await fsyncPath(tmp);
    const replaces = new Set<string>();
    const leaves = new Set<string>();
    for (const s of sources) {
      replaces.add(s.rel);
      const m = bySegment.get(s.rel);
      if (m) {
        m.replaces.forEach((r) => replaces.add(r));
        m.leaves.forEach((r) => leaves.add(r));
      } else leaves.add(s.rel);
    }
    replaces.delete(rel);
    const quarantined = sources.filter((s) => dirty.has(s.rel) && s.rel !== rel).map((s) => s.rel);
    const manifest: Manifest = {
      segment: rel,
      replaces: [...replaces].sort(),
      leaves: [...leaves].sort(),
      rows: ids.length,
      ...(quarantined.length ? { quarantined } : {}),
    };
    await writeManifest(ledgerDir, manifest);
    await placeSegment(tmp, join(ledgerDir, rel));
    await fsyncPath(dirAbs);
  } finally {
    await unlinkIfThere(tmp);
  }
  for (const s of sources) if (s.rel !== rel) await retire(ledgerDir, s.rel, dirty.has(s.rel), why);
  await fsyncPath(dirAbs);
  return { rel, rows: ids.length };
}

/**
 * Repairs a segment found to hold invalid rows: its valid rows go to a new segment, the original to quarantine.
 * Does nothing if the segment changed or went away meanwhile (another process repaired or compacted it).
 */
export async function repairSegment(ledgerDir: string, seg: SegmentFile, badIds: ReadonlySet<string>, why: string): Promise<void> {
  const abs = join(ledgerDir, seg.rel);
  const before = await fileKey(abs);
  if (!before) return;
  await withLedgerLock(ledgerDir, "rewrite", async () => {
    if ((await fileKey(abs)) !== before || !(await liveSegments(ledgerDir)).some((s) => s.rel === seg.rel)) return;
    const part = seg.rel.slice(0, seg.rel.lastIndexOf("/"));
    await withConnection((c) => rewriteSegments(c, ledgerDir, part, [seg], badIds, new Set([seg.rel]), why));
    process.stderr.write(`hwledger: warning: ${seg.rel}: ${badIds.size} invalid row(s) moved to quarantine (${why.split("\n")[0]}); its other rows kept\n`);
  });
}
