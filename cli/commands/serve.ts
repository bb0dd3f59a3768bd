// hwledger serve: the central ledger over mutual TLS (collector/serve/server.ts). Prints its URL on one line when
// ready; SIGINT/SIGTERM stop accepting, finish the writes in flight and exit.
import type { Command } from "commander";
import { InputError } from "../../lib/calc/types.js";
import { ledgerDirFlag, strictNumber } from "../args.js";
import { progress } from "../output.js";

interface ServeFlags {
  ledger?: string;
  listen?: string;
  certs?: string;
  name?: string;
  maxQueue?: string;
}

/** HOST:PORT, [IPv6]:PORT; port 0 picks a free one. */
export function listenFlag(v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InputError(`--listen must be HOST:PORT (e.g. 0.0.0.0:8443 or [::]:8443), got ${JSON.stringify(v.slice(0, 80))}`);
  return { host: m[1] ?? m[2], port };
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("central ledger: accept event batches from `hwledger agent` over mutual TLS (client certificates of the fleet CA)")
    .option("--ledger <dir>", "ledger folder (default $HWLEDGER_LEDGER or ~/.local/share/hwledger/ledger)")
    .option("--listen <host:port>", "address to listen on", "127.0.0.1:8443")
    .option("--certs <dir>", "folder of the CA (`hwledger certs init`) holding ca.pem and NAME.pem / NAME-key.pem")
    .option("--name <name>", "the server's certificate name (`hwledger certs issue --server`)", "central")
    .option("--max-queue <events>", "events that may wait for the writer before clients get 503 (default 200000)")
    .action(async (flags: ServeFlags) => {
      if (!flags.certs) throw new InputError("--certs is required (the folder `hwledger certs init` made)");
      const { checkCertName } = await import("../../collector/serve/certs.js");
      const { host, port } = listenFlag(flags.listen ?? "127.0.0.1:8443");
      let maxQueued: number | undefined;
      if (flags.maxQueue !== undefined) {
        maxQueued = strictNumber(flags.maxQueue, "--max-queue");
        if (!Number.isSafeInteger(maxQueued) || maxQueued < 1) throw new InputError(`--max-queue must be a positive integer, got "${flags.maxQueue}"`);
      }
      const ledger = await ledgerDirFlag(flags.ledger);
      const { startServer } = await import("../../collector/serve/server.js");
      const s = await startServer({ ledger, host, port, certs: flags.certs, name: checkCertName(flags.name ?? "central"), maxQueued });
      process.stdout.write(`${s.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          progress("serve: stopping (finishing writes in flight)");
          s.close().then(resolve, resolve);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
