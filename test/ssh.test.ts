// The SSH transport against a real OpenSSH server on 127.0.0.1 (test/helpers/sshd.ts): exec with safe
// quoting, SFTP, known_hosts refusal of unknown and changed keys, the trust option, timeouts, the pool.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalTransport, SshTransport, parseSshUrl, shellCommand, transportFor } from "../collector/transport/index.js";
import type { SshOptions } from "../collector/transport/index.js";
import { blackhole, freePort, makeKeyPair, startSshd } from "./helpers/sshd.js";
import type { Sshd } from "./helpers/sshd.js";

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

/** Client options with a known_hosts that already holds the server's real key. */
function trusted(extra: SshOptions = {}): SshOptions {
  const kh = join(sshd.dir, `kh-${Math.random().toString(36).slice(2)}`);
  writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
  return { identityFile: sshd.keyFile, knownHostsFile: kh, connectTimeoutMs: 5000, ...extra };
}

describe("SSH addresses", () => {
  it("reads ssh://user@host:port and user@host; refuses any other scheme instead of taking it for a host name", () => {
    expect(parseSshUrl("ssh://alice@gpu-1:2222/var/lib")).toEqual({ user: "alice", host: "gpu-1", port: 2222, path: "/var/lib" });
    expect(parseSshUrl("alice@10.0.0.7")).toMatchObject({ user: "alice", host: "10.0.0.7", port: 22 });
    for (const bad of ["http://example.com", "https://alice@example.com:22", "file:///etc/passwd", "HTTP://x"]) {
      expect(() => parseSshUrl(bad)).toThrow(/^not an SSH address: .* \(only ssh:\/\/user@host\[:port\]\[\/path\] is supported, not \w+:\/\/\)$/);
    }
    expect(() => parseSshUrl("ssh://alice@host:0")).toThrow(/port 0/);
  });
});

describe("shell quoting", () => {
  it("quotes arguments so the remote shell passes them through unchanged", () => {
    expect(shellCommand(["echo", "plain-arg_1.2", "", "a b", "it's", "$HOME", "`x`", "*"])).toBe(
      `echo plain-arg_1.2 '' 'a b' 'it'\\''s' '$HOME' '\`x\`' '*'`,
    );
    const argv = ["printf", "%s\\n", "it's", "$HOME", "a;b", "`id`", "\"q\"", "*", "", "tab\there", "new\nline"];
    const out = execFileSync("sh", ["-c", shellCommand(argv)], { encoding: "utf8" });
    expect(out).toBe(argv.slice(2).join("\n") + "\n");
  });
});

describe("ssh transport on a real sshd", () => {
  it("runs an argument array remotely with exit code, stdout, stderr and stdin", async () => {
    const t = new SshTransport(sshd.url, trusted());
    try {
      const args = ["it's", "$HOME", "a;b", "`id`", "*", ""];
      const r = await t.exec(["printf", "%s|", ...args]);
      expect(r).toEqual({ code: 0, stdout: args.join("|") + "|", stderr: "" });
      const f = await t.exec(["sh", "-c", "echo oops >&2; exit 3"]);
      expect(f).toEqual({ code: 3, stdout: "", stderr: "oops\n" });
      expect((await t.exec(["cat"], { input: "from stdin\n" })).stdout).toBe("from stdin\n");
      expect((await t.exec(["definitely-not-a-command-xyz"])).code).toBe(127);
    } finally {
      await t.close();
    }
  });

  it("reads, writes (atomically), lists and renames files over SFTP", async () => {
    const t = transportFor(sshd.url, trusted());
    try {
      const dir = join(sshd.dir, "sftp", "a", "b");
      await t.mkdirp(dir);
      await t.writeFile(join(dir, "f.txt"), "hello over sftp");
      expect(readFileSync(join(dir, "f.txt"), "utf8")).toBe("hello over sftp");
      expect((await t.readFile(join(dir, "f.txt"))).toString()).toBe("hello over sftp");
      expect(await t.readdir(dir)).toEqual([{ name: "f.txt", isDir: false, size: 15 }]);
      expect(await t.readdir(join(dir, "missing"))).toBeNull();
      await t.writeFile(join(dir, "g.txt"), "g");
      await expect(t.rename(join(dir, "g.txt"), join(dir, "f.txt"))).rejects.toThrow(/rename/);
      await t.rename(join(dir, "g.txt"), join(dir, "h.txt"));
      expect((await t.readdir(dir))!.map((e) => e.name).sort()).toEqual(["f.txt", "h.txt"]);
    } finally {
      await t.close();
    }
  });

  it("refuses an unknown host key; --trust-host-key records it; then it is known", async () => {
    const kh = join(sshd.dir, "kh-unknown");
    writeFileSync(kh, "");
    const opts = { identityFile: sshd.keyFile, knownHostsFile: kh, connectTimeoutMs: 5000 };
    const t1 = new SshTransport(sshd.url, opts);
    await expect(t1.exec(["true"])).rejects.toThrow(/host key of \[127\.0\.0\.1\]:\d+ \(ssh-ed25519 SHA256:.*\) is not in .*--trust-host-key/);
    await t1.close();
    expect(readFileSync(kh, "utf8")).toBe("");
    const t2 = new SshTransport(sshd.url, { ...opts, trustHostKey: true });
    expect((await t2.exec(["echo", "ok"])).stdout).toBe("ok\n");
    await t2.close();
    expect(readFileSync(kh, "utf8")).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    const t3 = new SshTransport(sshd.url, opts);
    expect((await t3.exec(["echo", "ok"])).stdout).toBe("ok\n");
    await t3.close();
  });

  it("refuses a changed host key, even with other hosts' keys present; trusting replaces the old key", async () => {
    const other = makeKeyPair(sshd.dir, `other-${Date.now()}`);
    const kh = join(sshd.dir, "kh-changed");
    writeFileSync(kh, `somehost ${sshd.hostKeyPub}\n[127.0.0.1]:${sshd.port} ${other.pub}\n`);
    const opts = { identityFile: sshd.keyFile, knownHostsFile: kh, connectTimeoutMs: 5000 };
    const t1 = new SshTransport(sshd.url, opts);
    await expect(t1.exec(["true"])).rejects.toThrow(/has CHANGED from the one on line 2 of .*man-in-the-middle/);
    await t1.close();
    const t2 = new SshTransport(sshd.url, { ...opts, trustHostKey: true });
    expect((await t2.exec(["true"])).code).toBe(0);
    await t2.close();
    expect(readFileSync(kh, "utf8")).toBe(`somehost ${sshd.hostKeyPub}\n[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
  });

  it("refuses a key marked @revoked, even when the host also lists it and --trust-host-key is given", async () => {
    const kh = join(sshd.dir, "kh-revoked");
    const text = `# revoked after a leak\n@revoked * ${sshd.hostKeyPub}\n[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`;
    writeFileSync(kh, text);
    for (const trustHostKey of [false, true]) {
      const t = new SshTransport(sshd.url, { identityFile: sshd.keyFile, knownHostsFile: kh, connectTimeoutMs: 5000, trustHostKey });
      await expect(t.exec(["true"])).rejects.toThrow(/host key of \[127\.0\.0\.1\]:\d+ \(ssh-ed25519 SHA256:.*\) is marked @revoked on line 2 of .*; refusing/);
      await t.close();
    }
    expect(readFileSync(kh, "utf8")).toBe(text);
  });

  it("a known_hosts that is a FIFO or a directory is bad input, refused before connecting", async () => {
    const fifo = join(sshd.dir, `kh-fifo-${Date.now()}`);
    execFileSync("mkfifo", [fifo]);
    for (const kh of [fifo, sshd.dir]) {
      const t = new SshTransport(sshd.url, { identityFile: sshd.keyFile, knownHostsFile: kh, connectTimeoutMs: 5000 });
      await expect(t.exec(["true"])).rejects.toThrow(/known_hosts file must be a regular file, not a (FIFO|directory)/);
      await t.close();
    }
  });

  it("accepts a hashed known_hosts entry (ssh-keygen -H)", async () => {
    const kh = join(sshd.dir, "kh-hashed");
    writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    execFileSync("ssh-keygen", ["-q", "-H", "-f", kh], { stdio: "ignore" });
    expect(readFileSync(kh, "utf8")).toMatch(/^\|1\|/);
    const t = new SshTransport(sshd.url, { identityFile: sshd.keyFile, knownHostsFile: kh });
    expect((await t.exec(["true"])).code).toBe(0);
    await t.close();
  });

  it("rejects a key the server does not authorize with a clean message", async () => {
    const stranger = makeKeyPair(sshd.dir, `stranger-${Date.now()}`);
    const t = new SshTransport(sshd.url, trusted({ identityFile: stranger.keyFile }));
    await expect(t.exec(["true"])).rejects.toThrow(/^ssh .*: authentication failed/);
    await t.close();
  });

  it("times out a command and leaves the connection usable", async () => {
    const t = new SshTransport(sshd.url, trusted());
    try {
      const nap = `31.${process.pid}${Date.now() % 1000}`; // a command line nothing else on this machine runs
      await expect(t.exec(["sleep", nap], { timeoutMs: 500 })).rejects.toThrow(/command timed out after 0.5 s .*: sleep/);
      expect((await t.exec(["echo", "still here"])).stdout).toBe("still here\n");
      // The remote command was stopped, not left running (for root logins sshd ignores SSH signal requests).
      // Command lines from /proc (no procps needed); the [.] keeps the pattern from matching this very check.
      await new Promise((r) => setTimeout(r, 1500));
      const ps = `for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done | grep -E 'sleep ${nap.replace(".", "[.]")}( |$)' || true`;
      const left = (await t.exec(["sh", "-c", ps])).stdout;
      expect(left).toBe("");
    } finally {
      await t.close();
    }
  });

  it("bounds the pool: many concurrent commands share at most maxConnections connections", async () => {
    const t = new SshTransport(sshd.url, trusted({ maxConnections: 2, maxChannelsPerConnection: 3 }));
    try {
      // SSH_CONNECTION names the client port: one per TCP connection.
      const rs = await Promise.all(Array.from({ length: 24 }, () => t.exec(["sh", "-c", 'echo "$SSH_CONNECTION"; sleep 0.1'])));
      const clientPorts = new Set(rs.map((r) => r.stdout.split(" ")[1]));
      expect(rs.every((r) => r.code === 0)).toBe(true);
      expect(clientPorts.size).toBeGreaterThanOrEqual(1);
      expect(clientPorts.size).toBeLessThanOrEqual(2);
    } finally {
      await t.close();
    }
  });

  it("closes idle connections by itself, and reconnects when used again", async () => {
    const t = new SshTransport(sshd.url, trusted({ idleMs: 200 }));
    try {
      const first = (await t.exec(["sh", "-c", 'echo "$SSH_CONNECTION"'])).stdout.split(" ")[1];
      expect((await t.exec(["sh", "-c", 'echo "$SSH_CONNECTION"'])).stdout.split(" ")[1]).toBe(first);
      await new Promise((r) => setTimeout(r, 600));
      const later = (await t.exec(["sh", "-c", 'echo "$SSH_CONNECTION"'])).stdout.split(" ")[1];
      expect(later).not.toBe(first);
    } finally {
      await t.close();
    }
  });

  it("a port that accepts but never speaks SSH hits the connect timeout", async () => {
    const bh = await blackhole();
    try {
      const t = new SshTransport(`ssh://${sshd.user}@127.0.0.1:${bh.port}`, trusted({ connectTimeoutMs: 800 }));
      await expect(t.exec(["true"])).rejects.toThrow(/no SSH handshake within 0.8 s \(connect timeout\)/);
      await t.close();
    } finally {
      await bh.close();
    }
  });

  it("an unreachable host (nothing listening) is a clean one-line error", async () => {
    const port = await freePort();
    const t = new SshTransport(`ssh://${sshd.user}@127.0.0.1:${port}`, trusted());
    await expect(t.exec(["true"])).rejects.toThrow(new RegExp(`^ssh ${sshd.user}@127\\.0\\.0\\.1:${port}: connection refused$`));
    await t.close();
  });

  it("spawn streams a long-running command's output and can stop it", async () => {
    const t = new SshTransport(sshd.url, trusted());
    try {
      let out = "";
      const r = await t.spawn(["sh", "-c", "echo started; sleep 0.2; echo done"], { onStdout: (b) => (out += b.toString()) });
      expect(await r.done).toEqual({ code: 0, signal: null });
      expect(out).toBe("started\ndone\n");
      const long = await t.spawn(["sleep", "30"]);
      const t0 = Date.now();
      long.kill("KILL"); // an SSH "signal" channel request (OpenSSH >= 7.9)
      expect((await long.done).signal).toBe("KILL");
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await t.close();
    }
  });
});

describe("local transport", () => {
  it("runs argument arrays without a shell, with timeouts and a clean missing-command error", async () => {
    const t = new LocalTransport();
    expect(await t.exec(["printf", "%s", "$HOME;*"])).toEqual({ code: 0, stdout: "$HOME;*", stderr: "" });
    expect((await t.exec(["cat"], { input: "in" })).stdout).toBe("in");
    await expect(t.exec(["sleep", "5"], { timeoutMs: 200 })).rejects.toThrow(/timed out after 0.2 s/);
    await expect(t.exec(["no-such-command-xyz"])).rejects.toThrow(/^command not found: no-such-command-xyz$/);
    expect(transportFor().target).toBe("local");
  });
});
