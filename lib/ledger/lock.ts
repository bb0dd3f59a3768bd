// Ledger-wide locks between processes (proper-lockfile: an atomic mkdir, refreshed while held, taken over when a
// holder died and its lock went stale). Appends hold LOCKS.append while they check which ids exist and write;
// compaction and segment repair hold LOCKS.rewrite, so two of them never merge the same segments.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { lock } from "proper-lockfile";
import { LOCKS } from "./layout.js";

/** How long a lock is kept without a refresh before another process may take it over (a crashed holder). */
const STALE_MS = 20_000;

export async function withLedgerLock<T>(ledgerDir: string, name: keyof typeof LOCKS, fn: () => Promise<T>, waitMs = 600_000): Promise<T> {
  await mkdir(ledgerDir, { recursive: true });
  let compromised: Error | undefined;
  const release = await lock(ledgerDir, {
    lockfilePath: join(ledgerDir, LOCKS[name]),
    realpath: false,
    stale: STALE_MS,
    // Waits for the holder: retry with backoff up to about waitMs in all.
    retries: { retries: Math.ceil(waitMs / 1000), factor: 1.3, minTimeout: 20, maxTimeout: 1000 },
    // Default is to throw from a timer (an uncaught exception): record it and fail the operation instead.
    onCompromised: (e) => (compromised = e),
  });
  try {
    const out = await fn();
    if (compromised) throw new Error(`ledger ${name} lock lost while held: ${compromised.message}`);
    return out;
  } finally {
    await release().catch(() => undefined);
  }
}
