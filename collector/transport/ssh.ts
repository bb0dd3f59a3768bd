// The SSH transport (ssh2): commands as argument arrays with timeouts and signals, files over SFTP, on a bounded
// pool of connections (ssh-pool.ts: keys, known_hosts, connect timeout). The address form is in ssh-target.ts.
import type { ClientChannel } from "ssh2";
import { RuntimeFailure } from "../errors.js";
import { pidFilter, sendSignal, wrapped } from "./ssh-exec.js";
import { SshPool } from "./ssh-pool.js";
import { SshFiles } from "./ssh-sftp.js";
import { DEFAULT_CONNECT_TIMEOUT_S, parseSshUrl } from "./ssh-target.js";
import type { SshOptions, SshTarget } from "./ssh-target.js";
import type { DirEntry, ExecOptions, ExecResult, Running, SpawnOptions, Transport } from "./types.js";
import { shellCommand } from "./types.js";

export { parseSshUrl, defaultKnownHosts, DEFAULT_CONNECT_TIMEOUT_S } from "./ssh-target.js";
export type { SshOptions, SshTarget } from "./ssh-target.js";

export class SshTransport implements Transport {
  readonly target: string;
  private readonly pool: SshPool;
  private readonly files: SshFiles;

  constructor(target: SshTarget | string, opts: SshOptions = {}) {
    const t = typeof target === "string" ? parseSshUrl(target) : target;
    this.target = `ssh://${t.user}@${t.host}:${t.port}`;
    this.pool = new SshPool(t, { connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_S * 1000, maxConnections: 2, maxChannelsPerConnection: 4, idleMs: 2000, ...opts });
    this.files = new SshFiles(this.pool);
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return this.pool.withChannel(async (c) => {
      const stream = await this.pool.openExec(c, wrapped(argv));
      return new Promise<ExecResult>((resolve, reject) => {
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let pid = 0;
        const timer = setTimeout(() => {
          this.stop(stream, pid, "KILL");
          stream.close();
          reject(new RuntimeFailure(`command timed out after ${timeoutMs / 1000} s on ${this.pool.where()}: ${argv[0]}`));
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
    if (pid > 1 && !this.pool.closed)
      void this.pool
        .withChannel(async (c) => {
          const k = await this.pool.openExec(c, shellCommand(["kill", `-${sig}`, "--", `-${pid}`]));
          await new Promise((r) => {
            k.on("close", r);
            k.resume();
            k.stderr.resume();
            k.end();
          });
        })
        .catch(() => undefined);
  }

  async spawn(argv: readonly string[], opts: SpawnOptions = {}): Promise<Running> {
    const c = await this.pool.acquire();
    let stream: ClientChannel;
    try {
      stream = await this.pool.openExec(c, wrapped(argv));
    } catch (e) {
      this.pool.release(c);
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
        this.pool.release(c);
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

  readFile(path: string): Promise<Buffer> {
    return this.files.readFile(path);
  }

  writeFile(path: string, data: string | Buffer): Promise<void> {
    return this.files.writeFile(path, data);
  }

  readdir(path: string): Promise<DirEntry[] | null> {
    return this.files.readdir(path);
  }

  mkdirp(path: string): Promise<void> {
    return this.files.mkdirp(path);
  }

  rename(from: string, to: string): Promise<void> {
    return this.files.rename(from, to);
  }

  unlink(path: string): Promise<void> {
    return this.files.unlink(path);
  }

  async close(): Promise<void> {
    this.pool.close();
  }
}
