// transportFor: "local" (or nothing) runs here; ssh://user@host[:port] runs there over SSH.
import { LocalTransport } from "./local.js";
import { SshTransport, parseSshUrl } from "./ssh.js";
import type { SshOptions } from "./ssh.js";
import type { Transport } from "./types.js";

export type { Transport, ExecOptions, ExecResult, Running, SpawnOptions, DirEntry } from "./types.js";
export { shellCommand, shellQuote } from "./types.js";
export { LocalTransport } from "./local.js";
export { SshTransport, parseSshUrl, defaultKnownHosts } from "./ssh.js";
export type { SshOptions, SshTarget } from "./ssh.js";

export function transportFor(hostSpec?: string, opts: SshOptions = {}): Transport {
  if (!hostSpec || hostSpec === "local" || hostSpec === "localhost") return new LocalTransport();
  return new SshTransport(parseSshUrl(hostSpec), opts);
}
