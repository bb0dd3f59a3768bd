// Opening a host for probe/collect/run: the transport (local or ssh://), its ledger name, and the devices the
// ledger already knows for it.
import { readEvents } from "../ledger/index.js";
import { transportFor } from "../transport/index.js";
import { hostLabel } from "./probe-host.js";
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

/** Latest device_registered per device of this host (what the ledger knows; empty for a new ledger). */
export async function knownDevices(ledgerDir: string, host: string): Promise<Map<string, KnownDevice>> {
  const known = new Map<string, KnownDevice>();
  // host matches the ledger's host alphabet ([A-Za-z0-9._-]), so it is safe inside the literal.
  const events = await readEvents(ledgerDir, `type = 'device_registered' AND host = '${host}'`);
  for (const e of events) {
    if (e.type !== "device_registered" || !e.device_id) continue;
    const p = e.payload as { name: string; memoryBytes: number; spec?: { driver?: string } };
    known.set(e.device_id, { device_id: e.device_id, name: p.name, memoryBytes: p.memoryBytes, driver: p.spec?.driver });
  }
  return known;
}

/** Registrations just written become known (collect --interval keeps the map between samples). */
export function rememberRegistrations(known: Map<string, KnownDevice>, events: ReadonlyArray<{ type: string; device_id?: string; payload: unknown }>): void {
  for (const e of events) {
    if (e.type !== "device_registered" || !e.device_id) continue;
    const p = e.payload as { name: string; memoryBytes: number; spec?: { driver?: string } };
    known.set(e.device_id, { device_id: e.device_id, name: p.name, memoryBytes: p.memoryBytes, driver: p.spec?.driver });
  }
}
