// ledger ship: copies local segments to another ledger through a RemoteFs the caller opens (the CLI passes the
// collector's SFTP or local transport). Never duplicates: segment names are content-addressed, so a segment already there (or whose rows
// are all there, per compaction manifests on either side) is skipped; each copy lands under a temp name and is
// renamed into place, so an interrupted ship leaves only ignored temp files and simply resumes next time.
// Offline spool: when the target is unreachable nothing changes locally; the next ship sends everything.
import { readFile } from "node:fs/promises";
import { join, posix, resolve } from "node:path";
import { withConnection } from "./duck.js";
import { DT_RE, HOSTDIR_RE, SEGMENT_RE } from "./layout.js";
import { COMPACTIONS_DIR, manifestName, parseManifest, readManifests, replacedBy } from "./manifests.js";
import type { Manifest } from "./manifests.js";
import { validSegments } from "./segments.js";

/**
 * The few file operations ship needs on the target ledger, POSIX paths. The collector's transports (local,
 * SSH/SFTP) offer them; the CLI opens one and passes it in.
 */
export interface RemoteFs {
  /** Entries of a folder; null when it does not exist. */
  readdir(path: string): Promise<{ name: string; isDir: boolean }[] | null>;
  readFile(path: string): Promise<Buffer>;
  /** Writes atomically (temp name, rename). */
  writeFile(path: string, data: string | Buffer): Promise<void>;
  mkdirp(path: string): Promise<void>;
  /** Renames; fails if `to` exists where the platform allows refusing. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface ShipTarget {
  fs: RemoteFs;
  /** The target ledger's folder on that filesystem. */
  root: string;
  /** How to name the target in results (e.g. the URL the user gave). */
  label: string;
}

export interface ShipResult {
  target: string;
  copied: string[];
  skipped: number;
  bytes: number;
}

/** Segments present in a remote ledger (relative paths) and its compaction manifests. */
async function remoteState(t: RemoteFs, root: string): Promise<{ present: Set<string>; manifests: Manifest[] }> {
  const present = new Set<string>();
  for (const d of (await t.readdir(root)) ?? []) {
    if (!d.isDir || !DT_RE.test(d.name)) continue;
    for (const h of (await t.readdir(posix.join(root, d.name))) ?? []) {
      if (!h.isDir || !HOSTDIR_RE.test(h.name)) continue;
      for (const f of (await t.readdir(posix.join(root, d.name, h.name))) ?? [])
        if (!f.isDir && SEGMENT_RE.test(f.name)) present.add(`${d.name}/${h.name}/${f.name}`);
    }
  }
  const manifests: Manifest[] = [];
  for (const f of (await t.readdir(posix.join(root, COMPACTIONS_DIR))) ?? []) {
    if (!f.name.endsWith(".json") || f.isDir) continue;
    const m = parseManifest((await t.readFile(posix.join(root, COMPACTIONS_DIR, f.name))).toString("utf8"));
    if (m) manifests.push(m);
  }
  return { present, manifests };
}

/** Copies what the target lacks; closes the target's filesystem when done. */
export async function shipLedger(ledgerDir: string, target: ShipTarget, opts: { onProgress?: (line: string) => void } = {}): Promise<ShipResult> {
  ledgerDir = resolve(ledgerDir);
  const { fs: t, root } = target;
  const res: ShipResult = { target: target.label, copied: [], skipped: 0, bytes: 0 };
  try {
    const segs = await withConnection((c) => validSegments(c, ledgerDir));
    const local = new Map((await readManifests(ledgerDir)).map((m) => [m.segment, m]));
    const remote = await remoteState(t, root);
    const covered = new Set([...remote.present, ...replacedBy(remote.manifests, remote.present)]);
    for (const s of segs) {
      const m = local.get(s.rel);
      if (covered.has(s.rel) || (m && m.leaves.every((l) => covered.has(l)))) {
        res.skipped++;
        continue;
      }
      // Manifest first: the remote hides the replaced segments the moment this one appears.
      if (m) {
        await t.mkdirp(posix.join(root, COMPACTIONS_DIR));
        await t.writeFile(posix.join(root, COMPACTIONS_DIR, manifestName(s.rel)), JSON.stringify(m) + "\n");
      }
      const data = await readFile(join(ledgerDir, s.rel));
      const dir = posix.join(root, `dt=${s.dt}`, `host=${s.host}`);
      await t.mkdirp(dir);
      const tmp = posix.join(dir, `.tmp-ship-${s.name}`);
      const final = posix.join(dir, s.name);
      await t.writeFile(tmp, data);
      try {
        await t.rename(tmp, final);
      } catch (e) {
        // Another shipper placed the same (content-addressed) segment meanwhile: ours is redundant.
        const there = (await t.readdir(dir))?.some((f) => f.name === s.name);
        await t.unlink(tmp).catch(() => undefined);
        if (!there) throw e;
      }
      res.copied.push(s.rel);
      res.bytes += data.length;
      covered.add(s.rel);
      opts.onProgress?.(`shipped ${s.rel} (${data.length} bytes)`);
    }
    return res;
  } finally {
    await t.close();
  }
}
