// `hwledger agent`: what `hwledger collect` does on a host (collector/run: probe, device registrations, telemetry,
// probe_failed), but spooled (collector/agent/spool.ts) and pushed to a central `hwledger serve` instead of appended
// to a local ledger. Events carry the agent's certificate name as host (the server enforces it anyway).
// Only the local transport and the probes are loaded (no DuckDB, no SSH): an agent stays small.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../../lib/calc/types.js";
import type { Event } from "../../lib/fleet/events.js";
import { LocalTransport } from "../transport/local.js";
import { probeEvents, probeFailedEvent, probeHost, rememberRegistrations } from "../run/probe-host.js";
import type { KnownDevice } from "../run/probe-host.js";
import type { Spool } from "./spool.js";

/** The devices this agent registered, kept in the spool folder (the central ledger is not ours to read). */
async function loadKnown(spool: Spool): Promise<Map<string, KnownDevice>> {
  const list = await readFile(join(spool.dir, "known.json"), "utf8").then(
    (t) => JSON.parse(t) as KnownDevice[],
    () => [],
  );
  return new Map(Array.isArray(list) ? list.map((d) => [d.device_id, d]) : []);
}

export class Collector {
  private opened: LocalTransport | undefined;
  private known: Map<string, KnownDevice> | undefined;

  constructor(
    private readonly spool: Spool,
    private readonly name: string,
  ) {}

  /** One sample into the spool: probe events, or one probe_failed with the reason. Returns {events, failure?}. */
  async sample(): Promise<{ events: number; failure?: string }> {
    let evs: Event[];
    let failure: string | undefined;
    try {
      this.opened ??= new LocalTransport();
      const p = await probeHost(this.opened, { host: this.name, target: "local" });
      this.known ??= await loadKnown(this.spool);
      evs = probeEvents(p, this.known, { telemetry: true });
    } catch (e) {
      if (e instanceof InputError) throw e;
      failure = (e as Error).message.split("\n")[0];
      evs = [probeFailedEvent(this.name, "local", failure)];
      await Promise.resolve(this.opened?.close()).catch(() => undefined);
      this.opened = undefined;
    }
    await this.spool.add(evs.map((e) => JSON.stringify(e)));
    // Remembered only once spooled: a kill before this registers the devices again (a harmless repeat).
    if (this.known && rememberRegistrations(this.known, evs) > 0) {
      await writeFile(join(this.spool.dir, "known.json"), JSON.stringify([...this.known.values()]), { mode: 0o600 });
    }
    return { events: evs.length, failure };
  }

  async close(): Promise<void> {
    await Promise.resolve(this.opened?.close()).catch(() => undefined);
  }
}
