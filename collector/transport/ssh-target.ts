// Where an SSH transport goes and with what: the ssh:// address, the options, the default key and known_hosts.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { InputError } from "../../lib/calc/types.js";

export interface SshTarget {
  user: string;
  host: string;
  port: number;
  /** Path part of ssh://user@host/path, if any ("" when absent). */
  path: string;
}

const FORM = "ssh://user@host[:port][/path]";

/**
 * Parses ssh://user@host[:port][/path] (also user@host[:port] without the scheme). Any other scheme (http://, file://)
 * is bad input: read as an SSH address it would silently become a host named after the scheme.
 */
export function parseSshUrl(spec: string): SshTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec);
  if (scheme && scheme[1].toLowerCase() !== "ssh") throw new InputError(`not an SSH address: ${spec} (only ${FORM} is supported, not ${scheme[1]}://)`);
  const s = scheme ? spec : `ssh://${spec}`;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new InputError(`not an ${FORM} address: ${spec}`);
  }
  if (u.protocol !== "ssh:" || !u.hostname) throw new InputError(`not an ${FORM} address: ${spec}`);
  const user = decodeURIComponent(u.username) || process.env.USER || "root";
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const port = u.port ? Number(u.port) : 22;
  if (port < 1) throw new InputError(`not an ${FORM} address: ${spec} (port ${port})`);
  return { user, host, port, path: decodeURIComponent(u.pathname) };
}

export interface SshOptions {
  /** Private key file (default $HWLEDGER_SSH_KEY, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa; else ssh-agent). */
  identityFile?: string;
  /** known_hosts file (default $HWLEDGER_KNOWN_HOSTS or ~/.ssh/known_hosts). */
  knownHostsFile?: string;
  /** Accept an unknown or changed host key and record it in known_hosts. */
  trustHostKey?: boolean;
  /** TCP connect + SSH handshake limit (default DEFAULT_CONNECT_TIMEOUT_S). */
  connectTimeoutMs?: number;
  /** Pool bounds (defaults 2 connections × 4 channels). */
  maxConnections?: number;
  maxChannelsPerConnection?: number;
  /** An unused connection is closed after this long (default 2 s), so a forgotten close() cannot hang the process. */
  idleMs?: number;
}

/**
 * Seconds for TCP connect + SSH handshake when nothing else is asked: a reachable host answers in well under a
 * second even over a VPN, and a dead one must answer exit 2 in under 10 s (issue 12).
 */
export const DEFAULT_CONNECT_TIMEOUT_S = 6;

/** Defaults of many hosts at once (collect --hosts): hosts in flight, and seconds one host may take in all. */
export const FANOUT_DEFAULTS = { concurrency: 16, hostTimeoutS: 20 } as const;

export function defaultKnownHosts(): string {
  return process.env.HWLEDGER_KNOWN_HOSTS || join(homedir(), ".ssh", "known_hosts");
}

export function defaultIdentity(): string | undefined {
  if (process.env.HWLEDGER_SSH_KEY) return process.env.HWLEDGER_SSH_KEY;
  return ["id_ed25519", "id_ecdsa", "id_rsa"].map((n) => join(homedir(), ".ssh", n)).find((p) => existsSync(p));
}
