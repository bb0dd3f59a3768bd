// Opening a host for probe/collect/run: the transport (local or ssh://), its ledger name, and the devices the
// ledger already knows for it.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { hwledgerStateDir } from "../../lib/ledger/layout.js";
import { join, resolve } from "node:path";
import { readEvents } from "../../lib/ledger/index.js";
import { transportFor } from "../transport/index.js";
import { hostLabel } from "./probe-host.js";
// Kept beside probeEvents (no ledger import there, so `hwledger agent` stays free of DuckDB); callers import it here too.
export { rememberRegistrations } from "./probe-host.js";
import type { KnownDevice } from "./probe-host.js";

export type HostTransport = Awaited<ReturnType<typeof transportFor>>;

export interface OpenHost {
  host: string;
  target: string;
  transport: HostTransport;
}

export async function openHost(spec: string | undefined, opts: { trustHostKey?: boolean } = {}): Promise<OpenHost> {
  const target = spec && spec !== "local" ? spec : "local";
  const transport = transportFor(target === "local" ? undefined : target, opts.trustHostKey ? { trustHostKey: true } : {});
  return { host: hostLabel(spec), target, transport };
}

/**
 * Where collect remembers the devices it registered, so a cron call need not read the whole ledger (which grows
 * by a segment per call): $XDG_STATE_HOME/hwledger or ~/.local/state/hwledger, one file per ledger and host.
 */
export function knownCacheFile(ledgerDir: string, host: string): string {
  const key = createHash("sha256").update(resolve(ledgerDir)).digest("hex").slice(0, 16);
  return join(hwledgerStateDir(), `known-${key}-${host}.json`);
}

/** Known devices from the cache file, else from the ledger (then cached). A new or emptied ledger starts over. */
export async function knownDevicesCached(ledgerDir: string, host: string): Promise<Map<string, KnownDevice>> {
  return (await knownDevicesOfHosts(ledgerDir, [host])).get(host)!;
}

/** knownDevicesCached for many hosts: cached ones from their files, the rest in one ledger read. */
export async function knownDevicesOfHosts(ledgerDir: string, hosts: readonly string[]): Promise<Map<string, Map<string, KnownDevice>>> {
  const out = new Map<string, Map<string, KnownDevice>>();
  const missing: string[] = [];
  for (const host of hosts) {
    const cached = existsSync(ledgerDir)
      ? await readFile(knownCacheFile(ledgerDir, host), "utf8").then(
          (t) => JSON.parse(t) as KnownDevice[],
          () => undefined,
        )
      : undefined;
    if (Array.isArray(cached)) out.set(host, new Map(cached.map((d) => [d.device_id, d])));
    else missing.push(host);
  }
  if (missing.length === 0) return out;
  const read = await registeredDevices(ledgerDir, missing);
  for (const host of missing) {
    const known = read.get(host) ?? new Map<string, KnownDevice>();
    out.set(host, known);
    await saveKnownDevices(ledgerDir, host, known);
  }
  return out;
}

export async function saveKnownDevices(ledgerDir: string, host: string, known: Map<string, KnownDevice>): Promise<void> {
  const file = knownCacheFile(ledgerDir, host);
  try {
    await mkdir(join(file, ".."), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify([...known.values()]));
    await rename(tmp, file);
  } catch {
    // A cache that cannot be written only costs the next call a ledger read.
  }
}

/** Latest device_registered per device of this host (what the ledger knows; empty for a new ledger). */
export async function knownDevices(ledgerDir: string, host: string): Promise<Map<string, KnownDevice>> {
  return (await registeredDevices(ledgerDir, [host])).get(host) ?? new Map();
}

async function registeredDevices(ledgerDir: string, hosts: readonly string[]): Promise<Map<string, Map<string, KnownDevice>>> {
  const byHost = new Map<string, Map<string, KnownDevice>>();
  // Host labels match the ledger's host alphabet ([A-Za-z0-9._-]), so they are safe inside the literals.
  const events = await readEvents(ledgerDir, `type = 'device_registered' AND host IN (${hosts.map((h) => `'${h}'`).join(", ")})`);
  for (const e of events) {
    if (e.type !== "device_registered" || !e.device_id) continue;
    let known = byHost.get(e.host);
    if (!known) byHost.set(e.host, (known = new Map()));
    const p = e.payload as { name: string; memoryBytes: number; spec?: { driver?: string } };
    known.set(e.device_id, { device_id: e.device_id, name: p.name, memoryBytes: p.memoryBytes, driver: p.spec?.driver });
  }
  return byHost;
}
