// A bounded pool of SSH connections to one target (each multiplexing a few channels, under OpenSSH's MaxSessions
// default of 10): key authentication, known_hosts checking, connect timeout, idle close.
import { createRequire } from "node:module";
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
import { InputError } from "../../lib/calc/types.js";
import { readRegularFile } from "../../loaders/files.js";
import type { HostFailureCode } from "../../lib/fleet/events.js";
import { HostUnreachable, RuntimeFailure } from "../errors.js";
import { checkHostKey, fingerprint, keyType, knownHostName, readKnownHosts, trustHostKey } from "./knownhosts.js";
import { defaultIdentity, defaultKnownHosts } from "./ssh-target.js";
import type { SshOptions, SshTarget } from "./ssh-target.js";

// ssh2 (and its crypto bindings) load only when a host is reached over SSH: a local `collect` stays small.
const requireCjs = createRequire(import.meta.url);
let ClientClass: typeof Client | undefined;
function sshClient(): typeof Client {
  return (ClientClass ??= (requireCjs("ssh2") as typeof import("ssh2")).Client);
}

export interface Conn {
  client: Client;
  ready: Promise<void>;
  active: number;
  idle?: NodeJS.Timeout;
  sftp?: Promise<SFTPWrapper>;
  dead: boolean;
}

export type PoolOptions = Required<Pick<SshOptions, "connectTimeoutMs" | "maxConnections" | "maxChannelsPerConnection">> & SshOptions;

export class SshPool {
  private conns: Conn[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(
    readonly t: SshTarget,
    readonly opts: PoolOptions,
  ) {}

  where(): string {
    return `${this.t.user}@${this.t.host}:${this.t.port}`;
  }

  private connectOne(): Conn {
    const knownHosts = this.opts.knownHostsFile ?? defaultKnownHosts();
    // A known_hosts or key that cannot be read (a FIFO, a directory) is bad input, found before any connection.
    readKnownHosts(knownHosts);
    const client = new (sshClient())();
    const conn: Conn = { client, active: 0, dead: false, ready: Promise.resolve() };
    let hostKeyProblem: { code: HostFailureCode; message: string } | undefined;
    const cfg: ConnectConfig = {
      host: this.t.host,
      port: this.t.port,
      username: this.t.user,
      readyTimeout: this.opts.connectTimeoutMs,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        checkHostKey(knownHosts, this.t.host, this.t.port, key)
          .then(async (v) => {
            if (v.status === "known") return verify(true);
            const id = `${knownHostName(this.t.host, this.t.port)} (${keyType(key)} ${fingerprint(key)})`;
            if (v.status === "revoked") {
              hostKeyProblem = { code: "host-key-revoked", message: `host key of ${id} is marked @revoked on line ${v.line} of ${knownHosts}; refusing (a revoked key is never accepted, even with --trust-host-key)` };
              return verify(false);
            }
            if (this.opts.trustHostKey) {
              await trustHostKey(knownHosts, this.t.host, this.t.port, key);
              process.stderr.write(`hwledger: trusted host key of ${id}, recorded in ${knownHosts}\n`);
              return verify(true);
            }
            hostKeyProblem =
              v.status === "unknown"
                ? { code: "host-key-unknown", message: `host key of ${id} is not in ${knownHosts}; refusing (use --trust-host-key to record it)` }
                : { code: "host-key-changed", message: `host key of ${id} has CHANGED from the one on line ${v.line} of ${knownHosts}; refusing (possible man-in-the-middle; use --trust-host-key to replace it)` };
            verify(false);
          })
          .catch((e) => {
            hostKeyProblem = { code: "error", message: `cannot read ${knownHosts}: ${(e as Error).message}` };
            verify(false);
          });
      },
    };
    const identity = this.opts.identityFile ?? defaultIdentity();
    if (identity) {
      cfg.privateKey = readRegularFile(identity, "SSH key", "textFileBytes");
      if (process.env.HWLEDGER_SSH_PASSPHRASE) cfg.passphrase = process.env.HWLEDGER_SSH_PASSPHRASE;
      const parsed = (requireCjs("ssh2") as typeof import("ssh2")).utils.parseKey(cfg.privateKey, cfg.passphrase);
      if (parsed instanceof Error) throw new InputError(`${identity}: not an SSH private key hwledger can use (${parsed.message.split("\n")[0]})`);
    } else if (process.env.SSH_AUTH_SOCK) cfg.agent = process.env.SSH_AUTH_SOCK;
    else throw new InputError(`no SSH key: set HWLEDGER_SSH_KEY or create ~/.ssh/id_ed25519`);

    conn.ready = new Promise<void>((resolve, reject) => {
      let settled = false;
      client.once("ready", () => {
        settled = true;
        resolve();
      });
      client.on("error", (e: Error & { code?: string; level?: string }) => {
        conn.dead = true;
        if (settled) return;
        settled = true;
        const d = hostKeyProblem ?? this.describeConnectError(e);
        reject(new HostUnreachable(`ssh ${this.where()}: ${d.message}`, d.code));
      });
      client.on("close", () => {
        conn.dead = true;
        this.conns = this.conns.filter((c) => c !== conn);
        this.wake();
        if (!settled) {
          settled = true;
          const d = hostKeyProblem ?? { code: "closed" as const, message: "connection closed during handshake" };
          reject(new HostUnreachable(`ssh ${this.where()}: ${d.message}`, d.code));
        }
      });
    });
    conn.ready.catch(() => undefined);
    client.connect(cfg);
    return conn;
  }

  /** Why the connection failed, in words and as a probe_failed code. */
  private describeConnectError(e: Error & { code?: string; level?: string }): { code: HostFailureCode; message: string } {
    if (e.code === "ECONNREFUSED") return { code: "refused", message: "connection refused" };
    if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return { code: "not-found", message: "host not found" };
    if (e.code === "EHOSTUNREACH" || e.code === "ENETUNREACH") return { code: "unreachable", message: "host unreachable" };
    if (e.code === "ETIMEDOUT" || /timed out/i.test(e.message))
      return { code: "timeout", message: `no SSH handshake within ${this.opts.connectTimeoutMs / 1000} s (connect timeout)` };
    if (e.level === "client-authentication") return { code: "auth", message: "authentication failed (key not accepted)" };
    return { code: "error", message: e.message.split("\n")[0] };
  }

  private wake(): void {
    const w = this.waiters.shift();
    if (w) w();
  }

  /** A connection with a free channel slot: reuse, open a new one within bounds, or wait. */
  async acquire(): Promise<Conn> {
    for (;;) {
      if (this.closed) throw new RuntimeFailure(`ssh ${this.where()}: transport closed`);
      const free = this.conns.find((c) => !c.dead && c.active < this.opts.maxChannelsPerConnection);
      if (free) {
        clearTimeout(free.idle);
        free.active++;
        try {
          await free.ready;
        } catch (e) {
          free.active--;
          this.conns = this.conns.filter((c) => c !== free);
          this.wake();
          throw e;
        }
        return free;
      }
      if (this.conns.length < this.opts.maxConnections) {
        this.conns.push(this.connectOne());
        continue;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  release(c: Conn): void {
    c.active--;
    if (c.active === 0 && !c.dead) {
      clearTimeout(c.idle);
      c.idle = setTimeout(() => {
        if (c.active > 0) return;
        c.dead = true;
        this.conns = this.conns.filter((x) => x !== c);
        c.client.end();
      }, this.opts.idleMs);
    }
    this.wake();
  }

  async withChannel<T>(fn: (c: Conn) => Promise<T>): Promise<T> {
    const c = await this.acquire();
    try {
      return await fn(c);
    } finally {
      this.release(c);
    }
  }

  openExec(c: Conn, cmd: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) =>
      c.client.exec(cmd, (err, stream) => (err ? reject(new RuntimeFailure(`ssh ${this.where()}: ${err.message}`)) : resolve(stream))),
    );
  }

  close(): void {
    this.closed = true;
    for (const c of this.conns) {
      clearTimeout(c.idle);
      c.client.end();
    }
    this.conns = [];
    for (const w of this.waiters.splice(0)) w();
  }
}
