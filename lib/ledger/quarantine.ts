// Corrupt or foreign files are moved to <ledger>/_quarantine/ (same relative path, time-stamped) with a
// warning on stderr, so queries over the rest go on and nothing is deleted.
import { mkdir, rename } from "node:fs/promises";
import { dirname, join } from "node:path";

export const QUARANTINE_DIR = "_quarantine";

/** Moves `rel` (relative to the ledger dir) into quarantine; returns the new relative path, or null if it vanished. */
export async function quarantine(ledgerDir: string, rel: string, reason: string): Promise<string | null> {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const dest = `${QUARANTINE_DIR}/${rel}.${stamp}`;
  await mkdir(dirname(join(ledgerDir, dest)), { recursive: true });
  try {
    await rename(join(ledgerDir, rel), join(ledgerDir, dest));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null; // another reader moved it first
    throw e;
  }
  process.stderr.write(`hwledger: warning: quarantined ${rel} (${reason.split("\n")[0]}) -> ${dest}\n`);
  return dest;
}
