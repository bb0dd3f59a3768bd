// hwledger probe: specs and telemetry of a host now (local or ssh://), recorded in the ledger.
import type { Command } from "commander";
import { HostUnreachable, InputError, RuntimeFailure } from "../../collector/errors.js";
import { formatBytes, printJson, printLines } from "../output.js";
import { ledgerDirFlag } from "../args.js";
import type { HostProbe } from "../../collector/run/probe-host.js";

export interface ProbeFlags {
  host?: string;
  ledger?: string;
  trustHostKey?: boolean;
  json?: boolean;
}

/** The JSON contract of `probe --json`. */
export function probeJson(p: HostProbe, recorded: string[]) {
  const h = p.hostReading;
  return {
    host: p.host,
    target: p.target,
    os: p.os,
    ts: p.ts,
    ramTotalBytes: h.ramTotalBytes ?? null,
    ramAvailableBytes: h.ramAvailableBytes ?? null,
    cpuCount: h.cpuCount ?? null,
    cpuModel: h.cpuModel ?? null,
    arch: h.arch ?? null,
    gpus: p.gpus,
    probes: p.probes,
    recorded,
  };
}

export function registerProbe(program: Command): void {
  program
    .command("probe")
    .description("probe a host now: RAM, CPUs, each GPU's memory, use, power, temperature, driver; records it")
    .option("--host <ssh://user@host[:port]>", "remote host over SSH (default: this machine)")
    .option("--trust-host-key", "accept an unknown or changed SSH host key and record it in known_hosts")
    .option("--ledger <dir>", "ledger directory (default: $HWLEDGER_LEDGER or ~/.local/share/hwledger/ledger)")
    .option("--json", "print one JSON document on stdout")
    .action(async (flags: ProbeFlags) => {
      const { openHost, knownDevices, rememberRegistrations, saveKnownDevices } = await import("../../collector/run/host.js");
      const { hostFailure, hostLabel, probeHost, probeEvents, probeFailedEvent } = await import("../../collector/run/probe-host.js");
      const { appendEvents } = await import("../../lib/ledger/index.js");
      const ledger = await ledgerDirFlag(flags.ledger);
      const host = hostLabel(flags.host);
      const target = flags.host ?? "local";
      let p: HostProbe;
      let close: (() => Promise<void> | void) | undefined;
      try {
        const h = await openHost(flags.host, { trustHostKey: flags.trustHostKey });
        close = () => h.transport.close();
        p = await probeHost(h.transport, { host: h.host, target: h.target });
      } catch (e) {
        if (e instanceof InputError) throw e;
        const { reason, code } = hostFailure(e);
        await appendEvents(ledger, [probeFailedEvent(host, target, reason, code)]);
        await close?.();
        const line = `probe of ${target} failed: ${reason}`;
        throw code ? new HostUnreachable(line, code) : new RuntimeFailure(line);
      }
      await close?.();
      // probe reads the ledger itself (authoritative) and refreshes collect's cache of registered devices.
      const known = await knownDevices(ledger, p.host);
      const events = probeEvents(p, known, { telemetry: false });
      await appendEvents(ledger, events);
      rememberRegistrations(known, events);
      await saveKnownDevices(ledger, p.host, known);
      const recorded = events.map((e) => e.type);
      if (flags.json) return printJson(probeJson(p, recorded));
      const h = p.hostReading;
      const lines = [
        `${p.host} (${p.target}): ${p.os}${h.arch ? " " + h.arch : ""}, ${h.cpuCount ?? "?"} CPUs${h.cpuModel ? " (" + h.cpuModel + ")" : ""}, RAM ${h.ramTotalBytes !== undefined ? formatBytes(h.ramTotalBytes) : "?"}${h.ramAvailableBytes !== undefined ? " (" + formatBytes(h.ramAvailableBytes) + " available)" : ""}`,
      ];
      for (const g of p.gpus) {
        const mem = g.memoryTotalBytes !== undefined ? `${formatBytes(g.memoryUsedBytes ?? 0)} / ${formatBytes(g.memoryTotalBytes)}` : "memory ?";
        const extra = [
          g.utilizationPct !== undefined ? `${g.utilizationPct}%` : undefined,
          g.powerW !== undefined ? `${g.powerW} W` : undefined,
          g.temperatureC !== undefined ? `${g.temperatureC} °C` : undefined,
          g.driver ? `driver ${g.driver}` : undefined,
        ].filter(Boolean);
        lines.push(`  ${g.device_id}: ${g.name}, ${mem}${extra.length ? ", " + extra.join(", ") : ""}`);
      }
      for (const x of p.probes) if (x.status !== "ok" && x.status !== "skipped") lines.push(`  ${x.probe}: ${x.status}${x.reason ? " (" + x.reason + ")" : ""}`);
      lines.push(`recorded ${recorded.length} events in ${ledger}`);
      printLines(lines);
    });
}
