// Probing one host: ask its OS, run every probe plugin that applies (in parallel), and turn the readings into
// ledger events (device_registered for new or changed devices, device_probed, telemetry_sample, probe_failed).
import { hostname } from "node:os";
import { probePlugins } from "../../plugins/index.js";
import type { GpuReading, HostReading, ProbeContext, ProbeOutcome, ProbeTransport } from "../../plugins/manifest.js";
import { makeEvent } from "../../lib/fleet/events.js";
import type { Event, HostFailureCode } from "../../lib/fleet/events.js";
import { HostUnreachable } from "../errors.js";
import { parseSshUrl } from "../transport/ssh-target.js";

export interface HostProbe {
  host: string;
  target: string;
  os: string;
  ts: string;
  hostReading: HostReading;
  gpus: Array<GpuReading & { device_id: string }>;
  probes: Array<Pick<ProbeOutcome, "probe" | "status" | "reason">>;
}

/**
 * Ledger host name: the SSH host (ssh://user@host:port/… or user@host:port, read by the transport's own parser, so
 * both spellings name one host) or this machine's name, in the ledger's alphabet.
 */
export function hostLabel(spec?: string): string {
  if (!spec || spec === "local") return sanitize(hostname());
  let t;
  try {
    t = parseSshUrl(spec);
  } catch {
    return sanitize(spec);
  }
  // Several test or tunnelled hosts share 127.0.0.1: the port tells them apart.
  const host = t.host.startsWith(":") ? `ipv6${t.host}` : t.host; // "::1" would sanitize to "1"
  return sanitize(t.port !== 22 ? `${host}-${t.port}` : host);
}

function sanitize(s: string): string {
  const t = s.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return (t || "host").slice(0, 200);
}

export const hostDeviceId = (host: string) => `${host}/cpu`;
export const gpuDeviceId = (host: string, g: GpuReading) => `${host}/gpu${g.index}`;

/**
 * Runs the probes. A transport error while asking the OS (host down, refused, timeout) propagates: the caller
 * records probe_failed. Individual tools that are missing or fail are statuses in `probes`.
 */
export async function probeHost(t: ProbeTransport, opts: { host: string; target: string; timeoutMs?: number }): Promise<HostProbe> {
  const ts = new Date().toISOString();
  const uname = await t.exec(["uname", "-s"], { timeoutMs: opts.timeoutMs ?? 10_000 });
  const os = uname.code === 0 ? uname.stdout.trim() : "unknown";
  const ctx: ProbeContext = { os };
  const plugins = await probePlugins();
  const outcomes = await Promise.all(
    plugins.map(async (p): Promise<ProbeOutcome> => {
      if (!p.detect(ctx)) return { probe: p.name, status: "skipped", reason: `not for ${os}`, gpus: [] };
      try {
        return await p.probe(t, ctx);
      } catch (e) {
        // A probe must not throw; if one does, it is that probe's failure, not the host's.
        return { probe: p.name, status: "failed", reason: (e as Error).message.split("\n")[0], gpus: [] };
      }
    }),
  );
  const hostReading: HostReading = Object.assign({}, ...outcomes.filter((o) => o.host).map((o) => o.host));
  if (!hostReading.os) hostReading.os = os;
  const all = outcomes.flatMap((o) => o.gpus);
  // Indexes are per vendor: a host with GPUs of two vendors names them by vendor.
  const mixed = new Set(all.map((g) => g.vendor)).size > 1;
  const gpus = all.map((g) => ({ ...g, device_id: mixed ? `${opts.host}/${g.vendor}${g.index}` : gpuDeviceId(opts.host, g) }));
  return {
    host: opts.host,
    target: opts.target,
    os,
    ts,
    hostReading,
    gpus,
    probes: outcomes.map((o) => ({ probe: o.probe, status: o.status, ...(o.reason ? { reason: o.reason } : {}) })),
  };
}

export interface KnownDevice {
  device_id: string;
  name: string;
  memoryBytes: number;
  driver?: string;
}

const int = (v: number | undefined) => (v === undefined ? undefined : Math.max(0, Math.round(v)));

/** The devices a probe saw, in the shape of device_registered payloads. */
export function registrations(p: HostProbe): Array<KnownDevice & { payload: Record<string, unknown> }> {
  const out: Array<KnownDevice & { payload: Record<string, unknown> }> = [];
  const h = p.hostReading;
  if (h.ramTotalBytes !== undefined) {
    const name = h.cpuModel ?? h.machineModel ?? `${p.os} host`;
    out.push({
      device_id: hostDeviceId(p.host),
      name,
      memoryBytes: int(h.ramTotalBytes)!,
      payload: { name, kind: "cpu", memoryBytes: int(h.ramTotalBytes)!, transport: p.target, spec: { ...h } },
    });
  }
  for (const g of p.gpus) {
    const memoryBytes = int(g.memoryTotalBytes) ?? 0;
    out.push({
      device_id: g.device_id,
      name: g.name,
      memoryBytes,
      driver: g.driver,
      payload: {
        name: g.name,
        kind: g.vendor === "apple" ? "apple" : "gpu",
        vendor: g.vendor,
        memoryBytes,
        transport: p.target,
        spec: { uuid: g.uuid, busId: g.busId, driver: g.driver, powerLimitW: g.powerLimitW, cores: g.cores, unifiedMemory: g.unifiedMemory },
      },
    });
  }
  return out;
}

/**
 * Events for one probe. `known` holds the devices already registered (latest registration per id): a device is
 * registered again only when new or when its name, memory or driver changed.
 */
export function probeEvents(p: HostProbe, known: Map<string, KnownDevice>, opts: { telemetry: boolean; jobId?: string }): Event[] {
  const events: Event[] = [];
  const at = { host: p.host, ts: p.ts };
  for (const r of registrations(p)) {
    const k = known.get(r.device_id);
    if (!k || k.name !== r.name || k.memoryBytes !== r.memoryBytes || (r.driver !== undefined && k.driver !== r.driver))
      events.push(makeEvent("device_registered", r.payload as never, { ...at, device_id: r.device_id }));
  }
  const h = p.hostReading;
  events.push(
    makeEvent(
      "device_probed",
      {
        probe: p.probes.filter((x) => x.status === "ok").map((x) => x.probe).join(",") || "none",
        hostRamBytes: int(h.ramTotalBytes),
        cpuCount: h.cpuCount,
        devices: p.gpus.map((g) => ({ ...g, memoryTotalBytes: int(g.memoryTotalBytes), memoryUsedBytes: int(g.memoryUsedBytes) })),
        os: p.os,
        target: p.target,
        host: h,
        probes: p.probes,
      } as never,
      at,
    ),
  );
  for (const x of p.probes)
    if (x.status === "failed") events.push(makeEvent("probe_failed", { probe: x.probe, reason: x.reason ?? "failed", target: p.target }, at));
  if (opts.telemetry) {
    const job = opts.jobId ? { jobId: opts.jobId } : {};
    if (h.ramTotalBytes !== undefined && h.ramAvailableBytes !== undefined)
      events.push(
        makeEvent(
          "telemetry_sample",
          { memoryTotalBytes: int(h.ramTotalBytes), memoryUsedBytes: int(h.ramTotalBytes - h.ramAvailableBytes), ...job },
          { ...at, device_id: hostDeviceId(p.host) },
        ),
      );
    for (const g of p.gpus)
      events.push(
        makeEvent(
          "telemetry_sample",
          {
            memoryTotalBytes: int(g.memoryTotalBytes),
            memoryUsedBytes: int(g.memoryUsedBytes),
            utilizationPct: g.utilizationPct,
            powerW: g.powerW,
            temperatureC: g.temperatureC,
            ...job,
          },
          { ...at, device_id: g.device_id },
        ),
      );
  }
  return events;
}

/** A host that could not be reached becomes one probe_failed event (code: why, when the transport said). */
export function probeFailedEvent(host: string, target: string, reason: string, code?: HostFailureCode): Event {
  return makeEvent("probe_failed", { probe: "host", reason, target, ...(code ? { code } : {}) }, { host });
}

/** What a failed probe of a whole host records and says: the first line of its error and, if known, its code. */
export function hostFailure(e: unknown): { reason: string; code?: HostFailureCode } {
  const reason = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  return e instanceof HostUnreachable ? { reason, code: e.code } : { reason };
}

/** Registrations just written become known (collect --interval keeps the map between samples). Returns how many. */
export function rememberRegistrations(known: Map<string, KnownDevice>, events: ReadonlyArray<{ type: string; device_id?: string; payload: unknown }>): number {
  let n = 0;
  for (const e of events) {
    if (e.type !== "device_registered" || !e.device_id) continue;
    const p = e.payload as { name: string; memoryBytes: number; spec?: { driver?: string } };
    known.set(e.device_id, { device_id: e.device_id, name: p.name, memoryBytes: p.memoryBytes, driver: p.spec?.driver });
    n++;
  }
  return n;
}
