// vitest setupFiles: runs before every test file, in its worker. Points HOME, the XDG folders and every hwledger
// default path at a fresh temporary folder, so no test (and no CLI a test spawns: it inherits process.env) reads
// or writes the user's home, default ledger, caches or known_hosts. A test that needs another path passes it.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const root = mkdtempSync(join(tmpdir(), "hwledger-home-"));

/** The variables set here, and the folder each points to. */
export const HERMETIC_ENV: Record<string, string> = {
  HOME: join(root, "home"),
  XDG_DATA_HOME: join(root, "xdg-data"),
  XDG_CONFIG_HOME: join(root, "xdg-config"),
  XDG_CACHE_HOME: join(root, "xdg-cache"),
  XDG_STATE_HOME: join(root, "xdg-state"),
  HWLEDGER_LEDGER: join(root, "ledger"),
  HWLEDGER_CACHE: join(root, "cache"),
  HWLEDGER_KNOWN_HOSTS: join(root, "home", ".ssh", "known_hosts"),
};

for (const [k, v] of Object.entries(HERMETIC_ENV)) {
  // The ledger folder is left absent: "no ledger yet" is the default state.
  if (k !== "HWLEDGER_LEDGER" && k !== "HWLEDGER_KNOWN_HOSTS") mkdirSync(v, { recursive: true });
  process.env[k] = v;
}
// An SSH key or agent of the user's must not be picked up either.
delete process.env.HWLEDGER_SSH_KEY;
delete process.env.SSH_AUTH_SOCK;

/** A fresh folder inside this test file's temp root (removed with it when the file ends). */
export function scratchDir(prefix = "scratch-"): string {
  return mkdtempSync(join(root, prefix));
}

afterAll(() => rmSync(root, { recursive: true, force: true }));
