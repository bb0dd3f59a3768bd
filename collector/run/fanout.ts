// Probing many hosts at once (collect --hosts): a bounded number in flight, a deadline per host, and a probe_failed
// event with its reason for each host that does not answer, so one dead or silent host never holds up the rest.
import { performance } from "node:perf_hooks";
import type { Event, HostFailureCode } from "../../lib/fleet/events.js";
import { HostUnreachable, InputError } from "../errors.js";
import { DEFAULT_CONNECT_TIMEOUT_S, SshTransport, parseSshUrl } from "../transport/ssh.js";
import { hostFailure, hostLabel, probeEvents, probeFailedEvent, probeHost } from "./probe-host.js";
import type { KnownDevice } from "./probe-host.js";
import { mapLimit } from "../../lib/pool.js";

/** One line of a hosts file. */
export interface HostEntry {
  line: number;
  /** The address, ssh:// form (what probe_failed and device_registered record as the target). */
  target: string;
  /** Its ledger host name (hostLabel). */
  host: string;
}

export { FANOUT_DEFAULTS } from "../transport/ssh-target.js";

/**
 * A hosts file: one ssh://user@host[:port] per line; blank lines and # comments are skipped. A line that is not such
 * an address, or a host already listed, is bad input naming the line.
 */
export function parseHostsFile(text: string, file: string): HostEntry[] {
  const entries: HostEntry[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const spec = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!spec) return;
    const where = `${file} line ${line}`;
    if (/\s/.test(spec)) throw new InputError(`${where}: one ssh://user@host[:port] per line, got "${spec}"`);
    let path: string;
    try {
      path = parseSshUrl(spec).path;
    } catch (e) {
      throw new InputError(`${where}: ${(e as Error).message}`);
    }
    if (path && path !== "/") throw new InputError(`${where}: a host has no path: "${spec}" (ssh://user@host[:port])`);
    // user@host is ssh://user@host: one form, so one host has one ledger name however it is written.
    const target = /^[a-z][a-z0-9+.-]*:\/\//i.test(spec) ? spec : `ssh://${spec}`;
    const host = hostLabel(target);
    const first = seen.get(host);
    if (first !== undefined) throw new InputError(`${where}: "${spec}" is the same host (${host}) as line ${first}`);
    seen.set(host, line);
    entries.push({ line, target, host });
  });
  if (entries.length === 0) throw new InputError(`${file}: no hosts (one ssh://user@host[:port] per line)`);
  return entries;
}

export type HostOutcome = { host: string; target: string; seconds: number; events: Event[] } & (
  | { status: "ok" }
  | { status: "failed"; reason: string; code: HostFailureCode }
);

export interface FanoutOptions {
  concurrency: number;
  hostTimeoutMs: number;
  trustHostKey?: boolean;
  /** Devices the ledger already holds, per host (the events register only new or changed ones). */
  known: ReadonlyMap<string, Map<string, KnownDevice>>;
  /** Called as each host finishes (progress). */
  onHost?: (o: HostOutcome) => void;
}

/** Probes every host (at most `concurrency` at once); the outcomes in the order of `entries`. */
export function fanout(entries: readonly HostEntry[], opts: FanoutOptions): Promise<HostOutcome[]> {
  return mapLimit(entries, opts.concurrency, async (e) => {
    const o = await probeOne(e, opts);
    opts.onHost?.(o);
    return o;
  });
}

async function probeOne(e: HostEntry, opts: FanoutOptions): Promise<HostOutcome> {
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  // One connection per host (its probes share its channels); the handshake gets no more than the host's deadline.
  const transport = new SshTransport(e.target, {
    connectTimeoutMs: Math.min(opts.hostTimeoutMs, DEFAULT_CONNECT_TIMEOUT_S * 1000),
    maxConnections: 1,
    idleMs: 500,
    ...(opts.trustHostKey ? { trustHostKey: true } : {}),
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HostUnreachable(`${e.target}: no answer within ${opts.hostTimeoutMs / 1000} s (host timeout)`, "timeout")), opts.hostTimeoutMs);
  });
  try {
    const p = await Promise.race([probeHost(transport, { host: e.host, target: e.target, timeoutMs: opts.hostTimeoutMs }), deadline]);
    const events = probeEvents(p, opts.known.get(e.host) ?? new Map(), { telemetry: true });
    return { host: e.host, target: e.target, seconds: seconds(), events, status: "ok" };
  } catch (err) {
    // No usable key or known_hosts is the same for every host: bad input, not this host's failure.
    if (err instanceof InputError) throw err;
    const f = hostFailure(err);
    const code = f.code ?? "error";
    return { host: e.host, target: e.target, seconds: seconds(), events: [probeFailedEvent(e.host, e.target, f.reason, code)], status: "failed", reason: f.reason, code };
  } finally {
    clearTimeout(timer);
    // Closing ends a handshake or probe still in flight: a silent host is let go, not waited for.
    await transport.close();
  }
}
