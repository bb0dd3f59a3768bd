// hwledger certs init|issue: the fleet's private CA (collector/serve/certs.ts) for `serve` and `agent`.
import type { Command } from "commander";
import { InputError } from "../../lib/calc/types.js";
import { printJson, printLines } from "../output.js";

interface CertFlags {
  dir?: string;
  name?: string;
  server?: boolean;
  json?: boolean;
}

function dirFlag(dir: string | undefined): string {
  if (!dir) throw new InputError("--dir is required (the folder of the CA and its certificates)");
  if (dir.includes("\0")) throw new InputError("--dir must be a path");
  return dir;
}

export function registerCerts(program: Command): void {
  const certs = program.command("certs").description("a private CA for mutual TLS between `hwledger agent` and `hwledger serve`");
  certs
    .command("init")
    .description("create the CA: DIR/ca.pem and DIR/ca-key.pem (key 0600)")
    .option("--dir <dir>", "folder of the CA")
    .option("--json", "print one JSON document")
    .action(async (flags: CertFlags) => {
      const { initCa } = await import("../../collector/serve/certs.js");
      const dir = dirFlag(flags.dir);
      const r = await initCa(dir);
      if (flags.json) printJson({ ca: r.cert });
      else printLines([`CA certificate: ${r.cert}`]);
    });
  certs
    .command("issue")
    .description("issue DIR/NAME.pem and DIR/NAME-key.pem (key 0600) signed by the CA; NAME is the ledger host of what it sends")
    .option("--dir <dir>", "folder of the CA")
    .option("--name <name>", "certificate name (CN): the agent's host name, or the server's name")
    .option("--server", "a server certificate: adds localhost, 127.0.0.1, ::1 and this machine's name as SANs")
    .option("--json", "print one JSON document")
    .action(async (flags: CertFlags) => {
      const { issueCert, checkCertName } = await import("../../collector/serve/certs.js");
      const dir = dirFlag(flags.dir);
      if (flags.name === undefined) throw new InputError("--name is required");
      const r = await issueCert(dir, checkCertName(flags.name), { server: flags.server });
      if (flags.json) printJson({ name: flags.name, cert: r.cert, server: Boolean(flags.server) });
      else printLines([`certificate: ${r.cert}`]);
    });
}
