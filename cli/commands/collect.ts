// hwledger collect: for cron/systemd. One probe + telemetry sample per call, appended to the local ledger;
// --interval keeps sampling until SIGINT/SIGTERM. Each sample is its own atomic segment, so a killed collector
// loses at most the sample in flight.
import type { Command } from "commander";
import { stopOnSignals } from "../signals.js";
import { HostUnreachable, InputError, RuntimeFailure } from "../../collector/errors.js";
import type { HostFailureCode } from "../../lib/fleet/events.js";
import { FANOUT_DEFAULTS } from "../../collector/transport/ssh-target.js";
import { printJson, progress } from "../output.js";
import { flagValue, ledgerDirFlag } from "../args.js";

export interface CollectFlags {
  host?: string;
  hosts?: string;
  concurrency?: string;
  hostTimeout?: string;
  ledger?: string;
  trustHostKey?: boolean;
  interval?: string;
  json?: boolean;
}

export function registerCollect(program: Command): void {
  program
    .command("collect")
    .description("append one probe + telemetry sample to the ledger (cron); --interval keeps sampling until stopped")
    .option("--host <ssh://user@host[:port]>", "remote host over SSH (default: this machine)")
    .option("--hosts <file>", "many hosts over SSH at once: a file with one ssh://user@host[:port] per line (# comments)")
    .option("--concurrency <n>", `with --hosts: hosts probed at once (default ${FANOUT_DEFAULTS.concurrency})`)
    .option("--host-timeout <seconds>", `with --hosts: the most one host may take, handshake and probes (default ${FANOUT_DEFAULTS.hostTimeoutS})`)
    .option("--trust-host-key", "accept an unknown or changed SSH host key and record it in known_hosts")
    .option("--ledger <dir>", "ledger directory (default: $HWLEDGER_LEDGER or ~/.local/share/hwledger/ledger)")
    .option("--interval <seconds>", "keep sampling every SECONDS (fractions allowed) until SIGINT/SIGTERM")
    .option("--json", "print one JSON document on stdout (samples written, events written, failures)")
    .action(async (flags: CollectFlags) => {
      if (flags.hosts !== undefined) return (await import("./collect-hosts.js")).collectHosts(flags);
      if (flags.concurrency !== undefined || flags.hostTimeout !== undefined) throw new InputError("--concurrency and --host-timeout go with --hosts FILE");
      let intervalMs: number | undefined;
      if (flags.interval !== undefined) {
        intervalMs = flagValue("period", flags.interval, "--interval") * 1000;
      }
      const { openHost, knownDevicesCached, rememberRegistrations, saveKnownDevices } = await import("../../collector/run/host.js");
      const { hostFailure, hostLabel, probeHost, probeEvents, probeFailedEvent } = await import("../../collector/run/probe-host.js");
      const { appendEvents } = await import("../../lib/ledger/index.js");
      const ledger = await ledgerDirFlag(flags.ledger);
      const host = hostLabel(flags.host);
      const target = flags.host ?? "local";

      const signals = stopOnSignals();

      let opened: Awaited<ReturnType<typeof openHost>> | undefined;
      let known: Awaited<ReturnType<typeof knownDevicesCached>> | undefined;
      let samples = 0;
      let events = 0;
      let failures = 0;
      let lastFailure: string | undefined;
      let lastCode: HostFailureCode | undefined;
      try {
        for (;;) {
          const started = Date.now();
          try {
            opened ??= await openHost(flags.host, { trustHostKey: flags.trustHostKey });
            const p = await probeHost(opened.transport, { host: opened.host, target: opened.target });
            known ??= await knownDevicesCached(ledger, p.host);
            const evs = probeEvents(p, known, { telemetry: true });
            await appendEvents(ledger, evs);
            if (rememberRegistrations(known, evs) > 0) await saveKnownDevices(ledger, p.host, known);
            samples++;
            events += evs.length;
          } catch (e) {
            if (e instanceof InputError) throw e;
            failures++;
            ({ reason: lastFailure, code: lastCode } = hostFailure(e));
            await appendEvents(ledger, [probeFailedEvent(host, target, lastFailure, lastCode)]);
            events++;
            // A broken connection is reopened on the next sample.
            await Promise.resolve(opened?.transport.close()).catch(() => undefined);
            opened = undefined;
            if (intervalMs !== undefined) progress(`collect: ${target}: ${lastFailure}`);
          }
          if (intervalMs === undefined || signals.stopping) break;
          await signals.sleep(intervalMs - (Date.now() - started));
          if (signals.stopping) break;
        }
      } finally {
        signals.release();
        await Promise.resolve(opened?.transport.close()).catch(() => undefined);
      }
      if (intervalMs !== undefined) progress(`collect: ${samples} samples, ${events} events, ${failures} failures in ${ledger}`);
      if (flags.json) printJson({ host, target, ledger, samples, events, failures });
      // One-shot: an unreachable host is a failure (cron mails it, exit 2); the probe_failed event is in the ledger.
      if (intervalMs === undefined && failures > 0) {
        const line = `collect from ${target} failed: ${lastFailure}`;
        throw lastCode ? new HostUnreachable(line, lastCode) : new RuntimeFailure(line);
      }
    });
}
