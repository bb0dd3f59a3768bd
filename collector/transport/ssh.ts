// The SSH transport (ssh2): key authentication, known_hosts checking, connect and command timeouts, and a
// bounded pool of connections (each multiplexing a few channels, under OpenSSH's MaxSessions default of 10).
import { readFileSync, existsSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join, posix } from "node:path";
import { createRequire } from "node:module";
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
import { InputError } from "../../lib/calc/types.js";
import { RuntimeFailure } from "../errors.js";
import { checkHostKey, fingerprint, keyType, knownHostName, trustHostKey } from "./knownhosts.js";
import type { DirEntry, ExecOptions, ExecResult, Running, SpawnOptions, Transport } from "./types.js";
import { shellCommand } from "./types.js";

// ssh2 (and its crypto bindings) load only when a host is reached over SSH: a local `collect` stays small.
const requireCjs = createRequire(import.meta.url);
let ClientClass: typeof Client | undefined;
function sshClient(): typeof Client {
  return (ClientClass ??= (requireCjs("ssh2") as typeof import("ssh2")).Client);
}

export interface SshTarget {
  user: string;
  host: string;
  port: number;
  /** Path part of ssh://user@host/path, if any ("" when absent). */
  path: string;
}

/** Parses ssh://user@host[:port][/path] (also user@host[:port] without the scheme). */
export function parseSshUrl(spec: string): SshTarget {
  const s = spec.startsWith("ssh://") ? spec : `ssh://${spec}`;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new InputError(`not an ssh://user@host[:port][/path] address: ${spec}`);
  }
  if (u.protocol !== "ssh:" || !u.hostname) throw new InputError(`not an ssh://user@host[:port][/path] address: ${spec}`);
  const user = decodeURIComponent(u.username) || process.env.USER || "root";
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const port = u.port ? Number(u.port) : 22;
  return { user, host, port, path: decodeURIComponent(u.pathname) };
}

export interface SshOptions {
  /** Private key file (default $HWLEDGER_SSH_KEY, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa; else ssh-agent). */
  identityFile?: string;
  /** known_hosts file (default $HWLEDGER_KNOWN_HOSTS or ~/.ssh/known_hosts). */
  knownHostsFile?: string;
  /** Accept an unknown or changed host key and record it in known_hosts. */
  trustHostKey?: boolean;
  /** TCP connect + SSH handshake limit (default 10 s). */
  connectTimeoutMs?: number;
  /** Pool bounds (defaults 2 connections × 4 channels). */
  maxConnections?: number;
  maxChannelsPerConnection?: number;
  /** An unused connection is closed after this long (default 2 s), so a forgotten close() cannot hang the process. */
  idleMs?: number;
}

export function defaultKnownHosts(): string {
  return process.env.HWLEDGER_KNOWN_HOSTS || join(homedir(), ".ssh", "known_hosts");
}

function defaultIdentity(): string | undefined {
  if (process.env.HWLEDGER_SSH_KEY) return process.env.HWLEDGER_SSH_KEY;
  return ["id_ed25519", "id_ecdsa", "id_rsa"].map((n) => join(homedir(), ".ssh", n)).find((p) => existsSync(p));
}

/**
 * Sends an SSH "signal" channel request. ssh2's Channel.signal() silently does nothing once stdin was ended
 * (it checks `writable`, ssh2 lib/Channel.js), but the request is valid while the channel is open, so send it
 * through the channel's protocol object in that case.
 */
function sendSignal(stream: ClientChannel, sig: string): void {
  const ch = stream as unknown as { outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, s: string): void } } };
  if (stream.writable) return void stream.signal(sig);
  if (ch.outgoing && ["open", "eof"].includes(ch.outgoing.state)) ch._client?._protocol?.signal(ch.outgoing.id, sig);
}

// Every remote command starts as `sh -c 'echo "hwledger-pid $$" >&2; exec "$@"' argv…`: the first stderr line
// is its pid (also its process group: sshd starts non-pty sessions with setsid). Stopping a command then
// works everywhere with `kill -SIG -- -PGID` on a second channel; the SSH signal request alone does not when
// the login is root ("session signalling requires privilege separation", OpenSSH session.c session_signal_req).
const PID_PREFIX = "hwledger-pid ";
function wrapped(argv: readonly string[]): string {
  return shellCommand(["sh", "-c", `echo "${PID_PREFIX}$$" >&2; exec "$@"`, "hwledger", ...argv]);
}

/** Splits the pid line off a command's stderr, passing the rest through. */
function pidFilter(onPid: (pid: number) => void, onData: (b: Buffer) => void): (b: Buffer) => void {
  let head: Buffer | null = Buffer.alloc(0);
  return (b: Buffer) => {
    if (head === null) return onData(b);
    head = Buffer.concat([head, b]);
    const nl = head.indexOf(10);
    if (nl < 0) return;
    const line = head.subarray(0, nl).toString("utf8");
    const rest = head.subarray(nl + 1);
    head = null;
    if (line.startsWith(PID_PREFIX)) onPid(Number(line.slice(PID_PREFIX.length)));
    else onData(Buffer.from(line + "\n"));
    if (rest.length) onData(rest);
  };
}

interface Conn {
  client: Client;
  ready: Promise<void>;
  active: number;
  idle?: NodeJS.Timeout;
  sftp?: Promise<SFTPWrapper>;
  dead: boolean;
}

export class SshTransport implements Transport {
  readonly target: string;
  private readonly t: SshTarget;
  private readonly opts: Required<Pick<SshOptions, "connectTimeoutMs" | "maxConnections" | "maxChannelsPerConnection">> & SshOptions;
  private conns: Conn[] = [];
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(target: SshTarget | string, opts: SshOptions = {}) {
    this.t = typeof target === "string" ? parseSshUrl(target) : target;
    this.target = `ssh://${this.t.user}@${this.t.host}:${this.t.port}`;
    this.opts = { connectTimeoutMs: 10_000, maxConnections: 2, maxChannelsPerConnection: 4, idleMs: 2000, ...opts };
  }

  private where(): string {
    return `${this.t.user}@${this.t.host}:${this.t.port}`;
  }

  private connectOne(): Conn {
    const client = new (sshClient())();
    const conn: Conn = { client, active: 0, dead: false, ready: Promise.resolve() };
    const knownHosts = this.opts.knownHostsFile ?? defaultKnownHosts();
    let hostKeyProblem: string | undefined;
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
            if (this.opts.trustHostKey) {
              await trustHostKey(knownHosts, this.t.host, this.t.port, key);
              process.stderr.write(`hwledger: trusted host key of ${id}, recorded in ${knownHosts}\n`);
              return verify(true);
            }
            hostKeyProblem =
              v.status === "unknown"
                ? `host key of ${id} is not in ${knownHosts}; refusing (use --trust-host-key to record it)`
                : `host key of ${id} has CHANGED from the one on line ${v.line} of ${knownHosts}; refusing (possible man-in-the-middle; use --trust-host-key to replace it)`;
            verify(false);
          })
          .catch((e) => {
            hostKeyProblem = `cannot read ${knownHosts}: ${(e as Error).message}`;
            verify(false);
          });
      },
    };
    const identity = this.opts.identityFile ?? defaultIdentity();
    if (identity) {
      try {
        cfg.privateKey = readFileSync(identity);
      } catch (e) {
        throw new InputError(`cannot read SSH key ${identity}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (process.env.HWLEDGER_SSH_PASSPHRASE) cfg.passphrase = process.env.HWLEDGER_SSH_PASSPHRASE;
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
        reject(new RuntimeFailure(this.describeConnectError(e, hostKeyProblem)));
      });
      client.on("close", () => {
        conn.dead = true;
        this.conns = this.conns.filter((c) => c !== conn);
        this.wake();
        if (!settled) {
          settled = true;
          reject(new RuntimeFailure(`ssh ${this.where()}: ${hostKeyProblem ?? "connection closed during handshake"}`));
        }
      });
    });
    conn.ready.catch(() => undefined);
    client.connect(cfg);
    return conn;
  }

  private describeConnectError(e: Error & { code?: string; level?: string }, hostKeyProblem?: string): string {
    const w = `ssh ${this.where()}`;
    if (hostKeyProblem) return `${w}: ${hostKeyProblem}`;
    if (e.code === "ECONNREFUSED") return `${w}: connection refused`;
    if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return `${w}: host not found`;
    if (e.code === "EHOSTUNREACH" || e.code === "ENETUNREACH") return `${w}: host unreachable`;
    if (e.code === "ETIMEDOUT" || /timed out/i.test(e.message))
      return `${w}: no SSH handshake within ${this.opts.connectTimeoutMs / 1000} s (connect timeout)`;
    if (e.level === "client-authentication") return `${w}: authentication failed (key not accepted)`;
    return `${w}: ${e.message.split("\n")[0]}`;
  }

  private wake(): void {
    const w = this.waiters.shift();
    if (w) w();
  }

  /** A connection with a free channel slot: reuse, open a new one within bounds, or wait. */
  private async acquire(): Promise<Conn> {
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

  private release(c: Conn): void {
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

  private async withChannel<T>(fn: (c: Conn) => Promise<T>): Promise<T> {
    const c = await this.acquire();
    try {
      return await fn(c);
    } finally {
      this.release(c);
    }
  }

  private openExec(c: Conn, cmd: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) =>
      c.client.exec(cmd, (err, stream) => (err ? reject(new RuntimeFailure(`ssh ${this.where()}: ${err.message}`)) : resolve(stream))),
    );
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return this.withChannel(async (c) => {
      const stream = await this.openExec(c, wrapped(argv));
      return new Promise<ExecResult>((resolve, reject) => {
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let pid = 0;
        const timer = setTimeout(() => {
          this.stop(stream, pid, "KILL");
          stream.close();
          reject(new RuntimeFailure(`command timed out after ${timeoutMs / 1000} s on ${this.where()}: ${argv[0]}`));
        }, timeoutMs);
        stream.on("data", (b: Buffer) => out.push(b));
        stream.stderr.on("data", pidFilter((p) => (pid = p), (b) => err.push(b)));
        stream.on("close", (code: number | null, signal?: string) => {
          clearTimeout(timer);
          resolve({
            code: code ?? (signal ? 128 + 9 : 255),
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(err).toString("utf8"),
          });
        });
        stream.end(opts.input ?? undefined);
      });
    });
  }

  /** Stops a remote command: SSH signal request, plus kill(1) of its process group on a fresh channel. */
  private stop(stream: ClientChannel, pid: number, sig: "TERM" | "INT" | "KILL"): void {
    sendSignal(stream, sig);
    if (pid > 1 && !this.closed)
      void this.withChannel(async (c) => {
        const k = await this.openExec(c, shellCommand(["kill", `-${sig}`, "--", `-${pid}`]));
        await new Promise((r) => {
          k.on("close", r);
          k.resume();
          k.stderr.resume();
          k.end();
        });
      }).catch(() => undefined);
  }

  async spawn(argv: readonly string[], opts: SpawnOptions = {}): Promise<Running> {
    const c = await this.acquire();
    let stream: ClientChannel;
    try {
      stream = await this.openExec(c, wrapped(argv));
    } catch (e) {
      this.release(c);
      throw e;
    }
    let pid = 0;
    let pending: "TERM" | "INT" | "KILL" | undefined; // kill() before the pid line arrived
    const onPid = (p: number) => {
      pid = p;
      if (pending) this.stop(stream, pid, pending);
    };
    stream.on("data", opts.onStdout ?? (() => undefined));
    stream.stderr.on("data", pidFilter(onPid, opts.onStderr ?? (() => undefined)));
    stream.end();
    const done = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      stream.on("close", (code: number | null, signal?: string) => {
        this.release(c);
        resolve({ code: code ?? null, signal: signal ? signal.replace(/^SIG/, "") : null });
      }),
    );
    return {
      done,
      kill: (sig = "TERM") => {
        if (pid) this.stop(stream, pid, sig);
        else pending = sig;
      },
    };
  }

  private sftp(c: Conn): Promise<SFTPWrapper> {
    c.sftp ??= new Promise((resolve, reject) =>
      c.client.sftp((err, s) => (err ? reject(new RuntimeFailure(`ssh ${this.where()}: sftp: ${err.message}`)) : resolve(s))),
    );
    return c.sftp;
  }

  private sftpOp<T>(fn: (s: SFTPWrapper, done: (err: unknown, v?: T) => void) => void, what: string): Promise<T> {
    return this.withChannel(async (c) => {
      const s = await this.sftp(c);
      return new Promise<T>((resolve, reject) =>
        fn(s, (err, v) => (err ? reject(new RuntimeFailure(`ssh ${this.where()}: ${what}: ${(err as Error).message}`)) : resolve(v as T))),
      );
    });
  }

  readFile(path: string): Promise<Buffer> {
    return this.sftpOp<Buffer>((s, done) => s.readFile(path, (e: Error | undefined, b: Buffer) => done(e, b)), `read ${path}`);
  }

  async writeFile(path: string, data: string | Buffer): Promise<void> {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    const tmp = posix.join(posix.dirname(path), `.tmp-${basename(path)}-${process.pid}-${Date.now()}`);
    await this.withChannel(async (c) => {
      const s = await this.sftp(c);
      const p = <T>(f: (cb: (e: Error | null | undefined, v?: T) => void) => void) =>
        new Promise<T>((res, rej) => f((e, v) => (e ? rej(new RuntimeFailure(`ssh ${this.where()}: write ${path}: ${e.message}`)) : res(v as T))));
      const h = await p<Buffer>((cb) => s.open(tmp, "w", cb));
      try {
        for (let off = 0; off < buf.length; ) {
          const n = Math.min(32 * 1024, buf.length - off);
          await p<void>((cb) => s.write(h, buf, off, n, off, (e) => cb(e)));
          off += n;
        }
        await p<void>((cb) => s.ext_openssh_fsync(h, (e) => cb(e)));
      } finally {
        await p<void>((cb) => s.close(h, (e) => cb(e))).catch(() => undefined);
      }
      // posix-rename@openssh.com replaces atomically, as rename(2) does.
      await p<void>((cb) => s.ext_openssh_rename(tmp, path, (e) => cb(e)));
    });
  }

  async readdir(path: string): Promise<DirEntry[] | null> {
    try {
      const list = await this.sftpOp<Array<{ filename: string; attrs: { size: number; isDirectory(): boolean } }>>(
        (s, done) => s.readdir(path, (e, l) => done(e, l)),
        `readdir ${path}`,
      );
      return list.map((e) => ({ name: e.filename, isDir: e.attrs.isDirectory(), size: e.attrs.size }));
    } catch (e) {
      if (/No such file/i.test((e as Error).message)) return null;
      throw e;
    }
  }

  async mkdirp(path: string): Promise<void> {
    const parts = path.split("/").filter(Boolean);
    let cur = path.startsWith("/") ? "" : ".";
    for (const part of parts) {
      cur = `${cur}/${part}`;
      const there = await this.sftpOp<boolean>((s, done) => s.stat(cur, (e, st) => done(undefined, !e && st.isDirectory())), `stat ${cur}`);
      if (!there)
        await this.sftpOp<void>((s, done) => s.mkdir(cur, (e) => done(e && !/exist|Failure/i.test(e.message) ? e : undefined)), `mkdir ${cur}`);
    }
  }

  /** SFTP v3 rename: OpenSSH refuses when `to` exists (never overwrites). */
  rename(from: string, to: string): Promise<void> {
    return this.sftpOp<void>((s, done) => s.rename(from, to, (e) => done(e)), `rename ${from}`);
  }

  unlink(path: string): Promise<void> {
    return this.sftpOp<void>((s, done) => s.unlink(path, (e) => done(e)), `unlink ${path}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.conns) {
      clearTimeout(c.idle);
      c.client.end();
    }
    this.conns = [];
    for (const w of this.waiters.splice(0)) w();
  }
}
