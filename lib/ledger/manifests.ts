// Compaction manifests: _compactions/<segment name>.json says which segments a compacted segment replaced.
// Readers hide replaced segments once the compacted one exists, so a crash mid-compaction (or a compacted
// segment shipped next to its sources) never shows a row twice; `compact` later deletes the replaced files.
import { mkdir, open, readFile, readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

export const COMPACTIONS_DIR = "_compactions";

export const ManifestSchema = z.object({
  segment: z.string(), // relative path of the compacted segment
  replaces: z.array(z.string()), // every segment it stands for, transitively (relative paths)
  leaves: z.array(z.string()), // the original (never compacted) segments among them
  rows: z.number().int().nonnegative(),
  // Sources holding rows that failed validation: moved to _quarantine (not deleted) once the segment is in place.
  quarantined: z.array(z.string()).optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export function manifestName(segmentRel: string): string {
  return segmentRel.split("/").pop()!.replace(/\.parquet$/, ".json");
}

/** Every well-formed manifest in a ledger (unreadable ones are ignored: they only ever hide files). */
export async function readManifests(ledgerDir: string): Promise<Manifest[]> {
  const dir = join(ledgerDir, COMPACTIONS_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: Manifest[] = [];
  for (const n of names) {
    if (!n.endsWith(".json")) continue;
    const m = parseManifest(await readFile(join(dir, n), "utf8").catch(() => ""));
    if (m) out.push(m);
  }
  return out;
}

export function parseManifest(text: string): Manifest | null {
  try {
    const r = ManifestSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** Segments hidden because a compacted segment that stands for them exists. */
export function replacedBy(manifests: Manifest[], existing: Set<string>): Set<string> {
  const hidden = new Set<string>();
  for (const m of manifests) if (existing.has(m.segment)) for (const r of m.replaces) hidden.add(r);
  return hidden;
}

/** Writes a manifest atomically (temp, fsync, rename). */
export async function writeManifest(ledgerDir: string, m: Manifest): Promise<void> {
  const dir = join(ledgerDir, COMPACTIONS_DIR);
  await mkdir(dir, { recursive: true });
  const final = join(dir, manifestName(m.segment));
  const tmp = `${final}.tmp-${process.pid}`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(JSON.stringify(m) + "\n");
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, final);
}
