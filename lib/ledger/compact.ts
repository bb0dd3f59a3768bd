// ledger compact: merges a partition's small segments into one (lib/ledger/rewrite.ts), without changing
// content: same rows, ids unique. Rows that fail the event schema are not carried into the merged segment; the
// sources holding them go to _quarantine whole. Concurrent compactions (and repairs) serialize on a lock; readers
// never need it: they see either the sources or the merged segment, never both (manifests), and retry when a
// segment they listed is retired under them.
import { readdir, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { lit, withConnection } from "./duck.js";
import { scanLedger } from "./layout.js";
import type { SegmentFile } from "./layout.js";
import { withLedgerLock } from "./lock.js";
import { COMPACTIONS_DIR, readManifests } from "./manifests.js";
import { retire, rewriteSegments, unlinkIfThere } from "./rewrite.js";
import { invalidRows } from "./rows.js";
import { validSegments } from "./segments.js";

export interface CompactOptions {
  /** Segments smaller than this many bytes are merged (default 16 MiB). */
  smallBytes?: number;
  /** Temp files older than this are leftovers of crashed writers and are removed (default 10 min). */
  tempAgeMs?: number;
  /** How long to wait for a compaction already running (default 10 min). */
  waitMs?: number;
}

export interface CompactResult {
  /** Segments merged away. */
  merged: number;
  /** New segments written (relative paths). */
  written: string[];
  rows: number;
  tempsRemoved: number;
  /** Source files of earlier, interrupted compactions retired now. */
  rolledForward: number;
  /** Rows left out because they failed the event schema (their source segments are in _quarantine). */
  invalidRows: number;
}

export async function compactLedger(ledgerDir: string, opts: CompactOptions = {}): Promise<CompactResult> {
  ledgerDir = resolve(ledgerDir);
  const res: CompactResult = { merged: 0, written: [], rows: 0, tempsRemoved: 0, rolledForward: 0, invalidRows: 0 };
  if (!(await stat(ledgerDir).catch(() => null))?.isDirectory()) return res;
  return withLedgerLock(ledgerDir, "rewrite", () => compactLocked(ledgerDir, opts, res), opts.waitMs);
}

async function compactLocked(ledgerDir: string, opts: CompactOptions, res: CompactResult): Promise<CompactResult> {
  const smallBytes = opts.smallBytes ?? 16 * 1024 * 1024;
  const tempAgeMs = opts.tempAgeMs ?? 10 * 60 * 1000;
  const scan = await scanLedger(ledgerDir);
  const now = Date.now();
  for (const t of scan.temps) {
    const st = await stat(join(ledgerDir, t)).catch(() => null);
    if (!st || now - st.mtimeMs <= tempAgeMs) continue;
    if (st.isDirectory()) await rm(join(ledgerDir, t), { recursive: true, force: true }).then(() => res.tempsRemoved++);
    else if (await unlinkIfThere(join(ledgerDir, t))) res.tempsRemoved++;
  }
  for (const n of await readdir(join(ledgerDir, COMPACTIONS_DIR)).catch(() => [] as string[])) {
    if (n.includes(".tmp-")) await unlinkIfThere(join(ledgerDir, COMPACTIONS_DIR, n));
  }

  // Roll forward: sources of a rewrite whose new segment is in place are retired.
  const present = new Set(scan.segments.map((s) => s.rel));
  for (const m of await readManifests(ledgerDir)) {
    if (!present.has(m.segment)) continue;
    const dirty = new Set(m.quarantined ?? []);
    for (const r of m.replaces) if (present.has(r) && (await retire(ledgerDir, r, dirty.has(r), "invalid rows, left by an interrupted rewrite"))) res.rolledForward++;
  }

  await withConnection(async (c) => {
    const groups = new Map<string, SegmentFile[]>();
    for (const s of await validSegments(c, ledgerDir)) {
      const st = await stat(join(ledgerDir, s.rel)).catch(() => null);
      if (!st || st.size >= smallBytes) continue;
      const key = `dt=${s.dt}/host=${s.host}`;
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    for (const [part, group] of groups) {
      if (group.length < 2) continue;
      // Rows are validated here, at write time, so one bad row never makes a merged segment unreadable.
      const bad = await invalidRows(c, group.map((s) => join(ledgerDir, s.rel)));
      const dirty = new Set<string>();
      if (bad.ids.size) {
        const holders = await c.runAndReadAll(
          `SELECT DISTINCT filename FROM read_parquet([${group.map((s) => lit(join(ledgerDir, s.rel))).join(",")}], filename = true, hive_partitioning = false)
           WHERE id IN (${[...bad.ids].map(lit).join(",")})`,
        );
        for (const [f] of holders.getRowsJS()) dirty.add(String(f).slice(ledgerDir.length + 1));
      }
      const r = await rewriteSegments(c, ledgerDir, part, group, bad.ids, dirty, `invalid rows: ${bad.reason}`);
      res.merged += group.length;
      res.invalidRows += bad.ids.size;
      if (r.rel) res.written.push(r.rel);
      res.rows += r.rows;
    }
  });
  return res;
}
