// hwledger agent [push FILE]: the collect loop on a host, spooled on disk and pushed to `hwledger serve` over mutual
// TLS (collector/agent). `--once`: push the spool plus one sample and exit 0 once all of it is acknowledged.
import type { Command } from "commander";
import { stopOnSignals } from "../signals.js";
import { InputError, RuntimeFailure } from "../../collector/errors.js";
import { flagValue } from "../args.js";
import { printJson, progress } from "../output.js";

interface AgentFlags {
  server?: string;
  certs?: string;
  name?: string;
  spool?: string;
  interval?: string;
  once?: boolean;
  timeout?: string;
  json?: boolean;
}

function common(cmd: Command): Command {
  return cmd
    .option("--server <url>", "the central ledger, https://HOST:PORT (`hwledger serve`)")
    .option("--certs <dir>", "folder holding ca.pem and NAME.pem / NAME-key.pem (`hwledger certs`)")
    .option("--name <name>", "this agent's certificate name: the ledger host of its events")
    .option("--spool <dir>", "spool folder (default $XDG_STATE_HOME/hwledger/spool-NAME)")
    .option("--timeout <seconds>", "give up pushing after SECONDS, keeping the rest spooled (exit 1; default 600)")
    .option("--json", "print one JSON document");
}

async function setup(flags: AgentFlags) {
  const { checkCertName } = await import("../../collector/serve/certs.js");
  const { pushTarget } = await import("../../collector/agent/push.js");
  const { Spool } = await import("../../collector/agent/spool.js");
  const { hwledgerStateDir } = await import("../../lib/ledger/layout.js");
  const { join } = await import("node:path");
  if (!flags.server) throw new InputError("--server is required (https://HOST:PORT of `hwledger serve`)");
  if (!flags.certs) throw new InputError("--certs is required (the folder `hwledger certs` made)");
  if (flags.name === undefined) throw new InputError("--name is required (this agent's certificate name)");
  const name = checkCertName(flags.name);
  const timeoutMs = flagValue("period", flags.timeout ?? "600", "--timeout") * 1000;

  const target = await pushTarget(flags.server, flags.certs, name);
  const spool = await new Spool(flags.spool ?? join(hwledgerStateDir(), `spool-${name}`)).open();
  return { name, target, spool, timeoutMs };
}

const onRejected = (file: string, why: string) => progress(`agent: ${why} (kept in the spool as ${file})`);

export function registerAgent(program: Command): void {
  const agent = common(program.command("agent"))
    .description("collect on this host into an on-disk spool and push it to `hwledger serve` over mutual TLS")
    .option("--interval <seconds>", "seconds between samples (default 60)")
    .option("--once", "push what is spooled plus one sample, exit 0 when the server acknowledged all of it")
    .action(async (flags: AgentFlags) => {
      const intervalMs = flagValue("period", flags.interval ?? "60", "--interval") * 1000;
      const { name, target, spool, timeoutMs } = await setup(flags);
      const { Collector } = await import("../../collector/agent/agent.js");
      const { drain } = await import("../../collector/agent/push.js");
      const collector = new Collector(spool, name);
      const signals = stopOnSignals();
      let samples = 0;
      let sent = 0;
      let rejected = 0;
      try {
        for (;;) {
          const started = Date.now();
          const s = await collector.sample();
          samples++;
          if (s.failure) progress(`agent: probe failed: ${s.failure}`);
          // --once: until everything is acknowledged (or --timeout); a loop: until the next sample is due.
          const deadline = flags.once ? started + timeoutMs : started + intervalMs;
          const d = await drain(spool, target, { deadline, onRejected });
          sent += d.sent;
          rejected += d.rejected;
          if (flags.once) {
            target.agent.destroy();
            if (flags.json) printJson({ name, samples, sent, rejected, pending: d.done ? 0 : await spool.pending() });
            if (!d.done) throw new RuntimeFailure(`agent: server did not acknowledge everything within --timeout (${d.lastError ?? "no answer"}); the rest stays spooled`);
            return;
          }
          if (!d.done) progress(`agent: push incomplete, retrying next round: ${d.lastError ?? "no answer"}`);
          if (signals.stopping) break;
          await signals.sleep(intervalMs - (Date.now() - started));
          if (signals.stopping) break;
        }
      } finally {
        signals.release();
        await collector.close();
        target.agent.destroy();
      }
      progress(`agent: ${samples} samples, ${sent} events acknowledged, ${rejected} refused`);
    });

  common(agent.command("push"))
    .argument("<file>", "NDJSON file of ledger events")
    .description("push the events of an NDJSON file through the spool; exit 0 when the server acknowledged all of them")
    .action(async (file: string, own: AgentFlags, cmd: Command) => {
      // Options written after `push` may be taken by `agent` itself (same names): both count.
      const flags: AgentFlags = { ...cmd.parent?.opts(), ...own };
      const { name, target, spool, timeoutMs } = await setup(flags);
      const { spoolFile } = await import("../../collector/agent/spool-file.js");
      const { drain } = await import("../../collector/agent/push.js");
      const spooled = await spoolFile(spool, file);
      const d = await drain(spool, target, { deadline: Date.now() + timeoutMs, onRejected });
      target.agent.destroy();
      if (flags.json) printJson({ name, spooled, sent: d.sent, rejected: d.rejected, pending: d.done ? 0 : await spool.pending() });
      if (!d.done) throw new RuntimeFailure(`agent push: server did not acknowledge everything within --timeout (${d.lastError ?? "no answer"}); the rest stays spooled`);
      if (d.rejected > 0) throw new RuntimeFailure(`agent push: the server refused ${d.rejected} events (kept in the spool's rejected/ folder)`);
    });
}
