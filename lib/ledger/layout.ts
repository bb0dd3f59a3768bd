// On-disk layout of a ledger directory (hive partitions, readable by any Parquet engine):
//   dt=YYYY-MM-DD/host=NAME/part-<ULID>.parquet   immutable segments (ULID content-addressed, see segmentName)
//   dt=…/host=…/.tmp-*, .tmp-*/                   in-flight writes: ignored by readers, removed by compact
//   _quarantine/…                                 corrupt or foreign files moved out of the way
//   _compactions/<segment>.json                   which segments a compacted segment replaced (for ship)
//   _ship/<target>.log                            segments already shipped to a target
//   _append.lock/, _rewrite.lock/                 held by a writer / a compaction or repair (gone when released)
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join, sep } from "node:path";
import { readdir } from "node:fs/promises";
import type { Dirent } from "node:fs";
import { ULID_RE, ulidFrom, ulidTime } from "../fleet/ulid.js";
import { mapLimit } from "../pool.js";

export const SEGMENT_RE = new RegExp(`^part-(${ULID_RE.source.slice(1, -1)})\\.parquet$`);
export const DT_RE = /^dt=(\d{4}-\d{2}-\d{2})$/;
export const HOSTDIR_RE = /^host=([A-Za-z0-9][A-Za-z0-9._-]*)$/;
export const TMP_PREFIX = ".tmp-";
/** Lock folders (proper-lockfile): held while appending (check + write) and while rewriting segments. */
export const LOCKS = { append: "_append.lock", rewrite: "_rewrite.lock" } as const;
export const SPECIAL_DIRS = new Set<string>(["_quarantine", "_compactions", "_ship", ...Object.values(LOCKS)]);
/** The glob DuckDB reads: only finished segments, never temp files. */
export const SEGMENT_GLOB = "dt=*/host=*/part-*.parquet";

/** hwledger's own state on this machine (caches, spools, rentals): $XDG_STATE_HOME/hwledger or ~/.local/state/hwledger. */
export function hwledgerStateDir(): string {
  return join(process.env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "hwledger");
}

/**
 * Default ledger directory: $HWLEDGER_LEDGER if set, else $XDG_DATA_HOME/hwledger/ledger,
 * else ~/.local/share/hwledger/ledger.
 */
export function defaultLedgerDir(): string {
  if (process.env.HWLEDGER_LEDGER) return process.env.HWLEDGER_LEDGER;
  const data = process.env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(data, "hwledger", "ledger");
}

/**
 * How a page names the ledger it was built from without the build machine's path: "$HWLEDGER_LEDGER" when that chose
 * it, else the default under "~" or "$XDG_DATA_HOME".
 */
export function ledgerLabel(dir = defaultLedgerDir()): string {
  if (process.env.HWLEDGER_LEDGER && dir === process.env.HWLEDGER_LEDGER) return "$HWLEDGER_LEDGER";
  if (process.env.XDG_DATA_HOME && dir.startsWith(process.env.XDG_DATA_HOME)) return "$XDG_DATA_HOME" + dir.slice(process.env.XDG_DATA_HOME.length);
  const home = homedir();
  return dir.startsWith(home + sep) ? "~" + dir.slice(home.length) : "the ledger folder";
}

/** Text (an error) with the ledger's path replaced by its label, for a page. */
export function withLedgerLabel(text: string, dir = defaultLedgerDir()): string {
  return text.split(dir).join(ledgerLabel(dir));
}

export function partitionDir(dt: string, host: string): string {
  return `dt=${dt}/host=${host}`;
}

/**
 * Segment name from its content: ULID time = the smallest event id's time, randomness = SHA-256 of the
 * sorted ids. The same batch always gets the same name, so re-writing or re-shipping it is idempotent.
 */
export function segmentName(sortedIds: readonly string[]): string {
  const first = sortedIds[0];
  if (!first || !ULID_RE.test(first)) throw new Error("segmentName: needs ULID event ids");
  // One update of the ids end to end: the same digest as one update per id, in one call.
  return `part-${ulidFrom(ulidTime(first), createHash("sha256").update(sortedIds.join("")).digest())}.parquet`;
}

export interface SegmentFile {
  /** Path relative to the ledger dir, with forward slashes. */
  rel: string;
  dt: string;
  host: string;
  name: string;
}

export interface LedgerScan {
  segments: SegmentFile[];
  /** Temp files and staging folders of in-flight or crashed writes (relative paths). */
  temps: string[];
  /** Anything else inside the partition tree: not ours (relative paths). */
  foreign: string[];
}

/**
 * A partition folder's entries, listed twice in a row and merged: a listing taken while a compaction links its
 * merged segment and removes the sources may miss the new entry, but the second listing, begun after the first
 * ended, has it. (Entries gone by then are dropped by the caller, which lists again.)
 */
async function listTwice(dir: string): Promise<Dirent[]> {
  const a = await readdir(dir, { withFileTypes: true });
  const b = await readdir(dir, { withFileTypes: true });
  const names = new Set(b.map((d) => d.name));
  return [...b, ...a.filter((d) => !names.has(d.name))];
}

/** Directory listings (and stats) in flight at once while walking the ledger. */
export const LISTINGS_AT_ONCE = 16;

/** Walks the ledger tree once and classifies every file. A missing directory is an empty ledger. */
export async function scanLedger(dir: string): Promise<LedgerScan> {
  const out: LedgerScan = { segments: [], temps: [], foreign: [] };
  const top = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return [];
    throw e;
  });
  // Folders are listed several at a time: a central ledger has a folder per host and day, and one listing after
  // another waited on the disk once per folder.
  const days: { name: string; dt: string }[] = [];
  for (const d of top) {
    if (SPECIAL_DIRS.has(d.name)) continue;
    if (d.name.startsWith(TMP_PREFIX)) {
      out.temps.push(d.name); // an append's staging folder (lib/ledger/writer.ts)
      continue;
    }
    const dt = DT_RE.exec(d.name);
    if (!d.isDirectory() || !dt) out.foreign.push(d.name);
    else days.push({ name: d.name, dt: dt[1] });
  }
  const hostDirs: { relH: string; dt: string; host: string }[] = [];
  for (const [i, list] of (await mapLimit(days, LISTINGS_AT_ONCE, (d) => readdir(join(dir, d.name), { withFileTypes: true }))).entries()) {
    for (const h of list) {
      const host = HOSTDIR_RE.exec(h.name);
      const relH = `${days[i].name}/${h.name}`;
      if (!h.isDirectory() || !host) out.foreign.push(relH);
      else hostDirs.push({ relH, dt: days[i].dt, host: host[1] });
    }
  }
  for (const [i, files] of (await mapLimit(hostDirs, LISTINGS_AT_ONCE, (h) => listTwice(join(dir, h.relH)))).entries()) {
    const { relH, dt, host } = hostDirs[i];
    for (const f of files) {
      const rel = `${relH}/${f.name}`;
      if (f.name.startsWith(TMP_PREFIX)) out.temps.push(rel);
      else if (f.isFile() && SEGMENT_RE.test(f.name)) out.segments.push({ rel, dt, host, name: f.name });
      else out.foreign.push(rel);
    }
  }
  out.segments.sort((a, b) => (a.rel < b.rel ? -1 : 1));
  return out;
}
