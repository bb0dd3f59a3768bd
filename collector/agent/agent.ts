// `hwledger agent`: what `hwledger collect` does on a host (collector/run: probe, device registrations, telemetry,
// probe_failed), but spooled (collector/agent/spool.ts) and pushed to a central `hwledger serve` instead of appended
// to a local ledger. Events carry the agent's certificate name as host (the server enforces it anyway).
import { createReadStream } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { InputError } from "../../lib/calc/types.js";
import { parseEvent } from "../../lib/fleet/events.js";
import type { Event } from "../../lib/fleet/events.js";
import { openHost, rememberRegistrations } from "../run/host.js";
import type { OpenHost } from "../run/host.js";
import { probeEvents, probeFailedEvent, probeHost } from "../run/probe-host.js";
import type { KnownDevice } from "../run/probe-host.js";
import { SPOOL_CHUNK, Spool } from "./spool.js";

/** The devices this agent registered, kept in the spool folder (the central ledger is not ours to read). */
async function loadKnown(spool: Spool): Promise<Map<string, KnownDevice>> {
  const list = await readFile(join(spool.dir, "known.json"), "utf8").then(
    (t) => JSON.parse(t) as KnownDevice[],
    () => [],
  );
  return new Map(Array.isArray(list) ? list.map((d) => [d.device_id, d]) : []);
}

export class Collector {
  private opened: OpenHost | undefined;
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
      this.opened ??= await openHost(undefined);
      const p = await probeHost(this.opened.transport, { host: this.name, target: "local" });
      this.known ??= await loadKnown(this.spool);
      evs = probeEvents(p, this.known, { telemetry: true });
    } catch (e) {
      if (e instanceof InputError) throw e;
      failure = (e as Error).message.split("\n")[0];
      evs = [probeFailedEvent(this.name, "local", failure)];
      await Promise.resolve(this.opened?.transport.close()).catch(() => undefined);
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
    await Promise.resolve(this.opened?.transport.close()).catch(() => undefined);
  }
}

/**
 * Spools the events of an NDJSON file: every line is checked first (a bad line is exit 2 naming it, and nothing is
 * spooled); the file is read as a stream and spooled in chunks, renamed into the spool only when all lines passed.
 */
export async function spoolFile(spool: Spool, file: string): Promise<number> {
  const staged = new Spool(join(spool.dir, `.stage-${process.pid}`));
  await rm(staged.dir, { recursive: true, force: true });
  await staged.open();
  let n = 0;
  let lineNo = 0;
  let chunk: string[] = [];
  try {
    const input = createReadStream(file, { encoding: "utf8" });
    input.on("error", () => undefined); // reported by the iterator below
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      if (line.trim() === "") continue;
      let ev: Event;
      try {
        ev = parseEvent(JSON.parse(line));
      } catch (e) {
        throw new InputError(`${file}: line ${lineNo}: ${e instanceof SyntaxError ? "not JSON" : (e as Error).message}`);
      }
      chunk.push(JSON.stringify(ev));
      n++;
      if (chunk.length === SPOOL_CHUNK) {
        await staged.add(chunk);
        chunk = [];
      }
    }
    if (chunk.length) await staged.add(chunk);
    await staged.moveInto(spool);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR" || code === "EACCES") throw new InputError(`${file}: cannot read (${code})`);
    throw e;
  } finally {
    await rm(staged.dir, { recursive: true, force: true });
  }
  return n;
}
