// transportFor: "local" (or nothing) runs here; ssh://user@host[:port] runs there over SSH.
import { LocalTransport } from "./local.js";
import { SshTransport, parseSshUrl } from "./ssh.js";
import type { SshOptions } from "./ssh.js";
import { resolve } from "node:path";
import { InputError } from "../../lib/calc/types.js";
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

/**
 * A folder to copy files into: ssh://user@host[:port]/path (SFTP; /~/x or /./x are relative to the remote home)
 * or a local folder. What `ledger ship --to` accepts.
 */
export function folderTarget(to: string, opts: SshOptions = {}): { transport: Transport; root: string } {
  if (to.startsWith("ssh://")) {
    const t = parseSshUrl(to);
    if (!t.path || t.path === "/") throw new InputError(`ship target needs a path: ssh://user@host[:port]/path, got ${to}`);
    const root = t.path.startsWith("/~/") ? t.path.slice(3) : t.path.startsWith("/./") ? t.path.slice(3) : t.path;
    return { transport: new SshTransport(t, opts), root };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) throw new InputError(`unsupported ship target (use ssh://user@host[:port]/path or a folder): ${to}`);
  return { transport: new LocalTransport(), root: resolve(to) };
}
