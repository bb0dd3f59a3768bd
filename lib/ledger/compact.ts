// ledger compact: merges a partition's small segments into one, without changing content (same rows, ids
// unique). Order of work makes every crash point safe: merged file written + fsynced under a temp name,
// manifest written (readers then hide the sources as soon as the merged segment exists), merged segment
// linked into place, sources deleted. A later compact finishes (rolls forward) an interrupted one.
import { readdir, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ulid } from "../fleet/ulid.js";
import { lit, withConnection } from "./duck.js";
import { TMP_PREFIX, scanLedger, segmentName } from "./layout.js";
import type { SegmentFile } from "./layout.js";
import { COMPACTIONS_DIR, readManifests, writeManifest } from "./manifests.js";
import type { Manifest } from "./manifests.js";
import { validSegments } from "./reader.js";
import { fsyncPath, placeSegment } from "./writer.js";

export interface CompactOptions {
  /** Segments smaller than this many bytes are merged (default 16 MiB). */
  smallBytes?: number;
  /** Temp files older than this are leftovers of crashed writers and are removed (default 10 min). */
  tempAgeMs?: number;
}

export interface CompactResult {
  /** Segments merged away. */
  merged: number;
  /** New segments written (relative paths). */
  written: string[];
  rows: number;
  tempsRemoved: number;
  /** Source files of earlier, interrupted compactions deleted now. */
  rolledForward: number;
}

async function unlinkIfThere(path: string): Promise<boolean> {
  return unlink(path).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return false;
      throw e;
    },
  );
}

export async function compactLedger(ledgerDir: string, opts: CompactOptions = {}): Promise<CompactResult> {
  ledgerDir = resolve(ledgerDir);
  const smallBytes = opts.smallBytes ?? 16 * 1024 * 1024;
  const tempAgeMs = opts.tempAgeMs ?? 10 * 60 * 1000;
  const res: CompactResult = { merged: 0, written: [], rows: 0, tempsRemoved: 0, rolledForward: 0 };

  const scan = await scanLedger(ledgerDir);
  const now = Date.now();
  for (const t of scan.temps) {
    const st = await stat(join(ledgerDir, t)).catch(() => null);
    if (st && now - st.mtimeMs > tempAgeMs && (await unlinkIfThere(join(ledgerDir, t)))) res.tempsRemoved++;
  }
  for (const n of await readdir(join(ledgerDir, COMPACTIONS_DIR)).catch(() => [] as string[])) {
    if (n.includes(".tmp-")) await unlinkIfThere(join(ledgerDir, COMPACTIONS_DIR, n));
  }

  const manifests = await readManifests(ledgerDir);
  const bySegment = new Map(manifests.map((m) => [m.segment, m]));
  const present = new Set(scan.segments.map((s) => s.rel));
  for (const m of manifests) {
    if (!present.has(m.segment)) continue;
    for (const r of m.replaces) if (present.has(r) && (await unlinkIfThere(join(ledgerDir, r)))) res.rolledForward++;
  }

  await withConnection(async (c) => {
    const segs = await validSegments(c, ledgerDir);
    const groups = new Map<string, SegmentFile[]>();
    for (const s of segs) {
      const st = await stat(join(ledgerDir, s.rel)).catch(() => null);
      if (!st || st.size >= smallBytes) continue;
      const key = `dt=${s.dt}/host=${s.host}`;
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    for (const [part, group] of groups) {
      if (group.length < 2) continue;
      const files = `[${group.map((s) => lit(join(ledgerDir, s.rel))).join(",")}]`;
      const src = `read_parquet(${files}, hive_partitioning = false)`;
      const ids = (await c.runAndReadAll(`SELECT DISTINCT id FROM ${src} ORDER BY id`)).getColumnsJS()[0] as string[];
      const name = segmentName(ids);
      const rel = `${part}/${name}`;
      const dirAbs = join(ledgerDir, part);
      const tmp = join(dirAbs, `${TMP_PREFIX}${ulid()}-${process.pid}.parquet`);
      try {
        // One row per id (a duplicate can only be the same event written twice).
        await c.run(
          `COPY (SELECT id, ts, host, device_id, type, payload FROM ${src}
                 QUALIFY row_number() OVER (PARTITION BY id) = 1 ORDER BY id)
           TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        const written = Number(
          (await c.runAndReadAll(`SELECT count(*) FROM read_parquet(${lit(tmp)})`)).getColumnsJS()[0][0],
        );
        if (written !== ids.length) throw new Error(`compact ${part}: wrote ${written} rows, expected ${ids.length}`);
        await fsyncPath(tmp);
        const replaces = new Set<string>();
        const leaves = new Set<string>();
        for (const s of group) {
          replaces.add(s.rel);
          const m = bySegment.get(s.rel);
          if (m) {
            m.replaces.forEach((r) => replaces.add(r));
            m.leaves.forEach((r) => leaves.add(r));
          } else leaves.add(s.rel);
        }
        replaces.delete(rel);
        const manifest: Manifest = { segment: rel, replaces: [...replaces].sort(), leaves: [...leaves].sort(), rows: ids.length };
        await writeManifest(ledgerDir, manifest);
        await placeSegment(tmp, join(ledgerDir, rel));
        await fsyncPath(dirAbs);
      } finally {
        await unlinkIfThere(tmp);
      }
      for (const s of group) if (s.rel !== rel) await unlinkIfThere(join(ledgerDir, s.rel));
      await fsyncPath(dirAbs);
      res.merged += group.length;
      res.written.push(rel);
      res.rows += ids.length;
    }
  });
  return res;
}
