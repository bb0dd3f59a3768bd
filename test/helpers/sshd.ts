// A real OpenSSH server (Debian's openssh-server) on 127.0.0.1 and a free port, as the current user, with a
// throwaway host key, user key and known_hosts in a temp dir. scripts/test-deps.sh installs sshd for CI.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export const SSHD = "/usr/sbin/sshd";

export interface Sshd {
  host: "127.0.0.1";
  port: number;
  /** Every port this server listens on (the first is `port`; more with startSshd({ ports })). */
  ports: number[];
  user: string;
  /** ssh://user@127.0.0.1:port */
  url: string;
  dir: string;
  /** The user's private key (authorized on this server). */
  keyFile: string;
  /** An empty known_hosts file for the client side (tests decide what goes in). */
  knownHostsFile: string;
  /** The server's host key as an OpenSSH public key line "ssh-ed25519 AAAA…". */
  hostKeyPub: string;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A port that accepts TCP connections and never says a word (an SSH blackhole). */
export async function blackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

function keygen(file: string): void {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "hwledger-test", "-f", file], { stdio: "ignore" });
}

/** Generates an ed25519 key pair in dir and returns the public key line. */
export function makeKeyPair(dir: string, name: string): { keyFile: string; pub: string } {
  const keyFile = join(dir, name);
  keygen(keyFile);
  return { keyFile, pub: readFileSync(`${keyFile}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ") };
}

async function waitForBanner(port: number, child: ChildProcess, stderr: () => string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.setTimeout(1000);
      s.once("data", (b) => {
        s.destroy();
        resolve(b.toString().startsWith("SSH-2.0"));
      });
      s.once("error", () => resolve(false));
      s.once("timeout", () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port}: ${stderr()}`);
}

export interface SshdOptions {
  /** Ports to listen on (default 1): one sshd answering on several ports stands for several hosts. */
  ports?: number;
  /** A user key pair to authorize instead of a fresh one (so many servers accept one client key). */
  userKey?: { keyFile: string; pub: string };
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} missing: run scripts/test-deps.sh (apt-get install openssh-server)`);
  const dir = mkdtempSync(join(tmpdir(), "hwledger-sshd-"));
  const hostKey = makeKeyPair(dir, "host_ed25519");
  const userKey = opts.userKey ?? makeKeyPair(dir, "user_ed25519");
  writeFileSync(join(dir, "authorized_keys"), userKey.pub + "\n", { mode: 0o600 });
  const knownHostsFile = join(dir, "known_hosts");
  writeFileSync(knownHostsFile, "");
  // sshd running as root needs its privilege-separation directory.
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const ports: number[] = [];
  for (let i = 0; i < (opts.ports ?? 1); i++) ports.push(await freePort());
  const port = ports[0];
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      ...ports.map((p) => `Port ${p}`),
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey.keyFile}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "PermitRootLogin prohibit-password",
      "Subsystem sftp internal-sftp",
      (process.env.SSHD_LOGLEVEL ? `LogLevel ${process.env.SSHD_LOGLEVEL}` : "LogLevel ERROR"),
      "",
    ].join("\n"),
  );
  let err = "";
  const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  // SSHD_LOGLEVEL=DEBUG1 (env) shows the server log while debugging a test.
  child.stderr!.on("data", (b: Buffer) => {
    err += b.toString();
    if (process.env.SSHD_LOGLEVEL) process.stderr.write(b);
  });
  try {
    for (const p of ports) await waitForBanner(p, child, () => err);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  const user = userInfo().username;
  return {
    host: "127.0.0.1",
    port,
    ports,
    user,
    url: `ssh://${user}@127.0.0.1:${port}`,
    dir,
    keyFile: userKey.keyFile,
    knownHostsFile,
    hostKeyPub: hostKey.pub,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** known_hosts lines for every port of these servers ("[127.0.0.1]:PORT ssh-ed25519 AAAA…"). */
export function knownHostsLines(servers: readonly Sshd[]): string {
  return servers.flatMap((s) => s.ports.map((p) => `[127.0.0.1]:${p} ${s.hostKeyPub}\n`)).join("");
}
