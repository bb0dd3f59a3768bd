// hwledger collect --hosts FILE: one probe + telemetry sample of many SSH hosts at once, appended to the ledger in one
// batch. Like collect, it prints nothing when every host answered; hosts that did not are probe_failed events and
// one line on stderr naming them (exit 2, as for a single host that does not answer).
import { HostUnreachable, InputError } from "../../collector/errors.js";
import { flagValue, ledgerDirFlag } from "../args.js";
import { printJson } from "../output.js";

/** The collect flags this reads (cli/commands/collect.ts registers them). */
export interface CollectHostsFlags {
  hosts?: string;
  host?: string;
  concurrency?: string;
  hostTimeout?: string;
  interval?: string;
  trustHostKey?: boolean;
  ledger?: string;
  json?: boolean;
}

export async function collectHosts(flags: CollectHostsFlags): Promise<void> {
  if (flags.host !== undefined) throw new InputError("give --host or --hosts, not both");
  if (flags.interval !== undefined) throw new InputError("--interval does not go with --hosts (run collect --hosts from cron or a systemd timer)");
  const { FANOUT_DEFAULTS, fanout, parseHostsFile } = await import("../../collector/run/fanout.js");
  const concurrency = flagValue("parallelHosts", flags.concurrency ?? FANOUT_DEFAULTS.concurrency, "--concurrency");
  const hostTimeoutS = flagValue("timeout", flags.hostTimeout ?? FANOUT_DEFAULTS.hostTimeoutS, "--host-timeout");
  const { readRegularFile } = await import("../../loaders/files.js");
  const entries = parseHostsFile(readRegularFile(flags.hosts!, "hosts file", "textFileBytes").toString("utf8"), flags.hosts!);
  const ledger = await ledgerDirFlag(flags.ledger);

  const { knownDevicesOfHosts, rememberRegistrations, saveKnownDevices } = await import("../../collector/run/host.js");
  const { appendEvents } = await import("../../lib/ledger/index.js");
  const known = await knownDevicesOfHosts(
    ledger,
    entries.map((e) => e.host),
  );
  const outcomes = await fanout(entries, { concurrency, hostTimeoutMs: hostTimeoutS * 1000, trustHostKey: flags.trustHostKey, known });
  const events = outcomes.flatMap((o) => o.events);
  await appendEvents(ledger, events);
  for (const o of outcomes) {
    const k = known.get(o.host)!;
    if (o.status === "ok" && rememberRegistrations(k, o.events) > 0) await saveKnownDevices(ledger, o.host, k);
  }

  const failed = outcomes.filter((o) => o.status === "failed");
  if (flags.json)
    printJson({
      ledger,
      hosts: outcomes.map((o) => ({
        host: o.host,
        target: o.target,
        status: o.status,
        ...(o.status === "failed" ? { code: o.code, reason: o.reason } : {}),
        events: o.events.length,
        seconds: o.seconds,
      })),
      collected: outcomes.length - failed.length,
      failed: failed.length,
      events: events.length,
    });
  if (failed.length > 0) {
    const shown = failed.slice(0, 5).map((o) => `${o.host} ${o.status === "failed" ? o.code : ""}`);
    const more = failed.length > shown.length ? `, and ${failed.length - shown.length} more` : "";
    throw new HostUnreachable(
      `collect: ${failed.length} of ${outcomes.length} hosts did not answer (recorded as probe_failed in ${ledger}): ${shown.join(", ")}${more}`,
      failed[0].status === "failed" ? failed[0].code : "error",
    );
  }
}
