// collect --hosts against real OpenSSH servers on 127.0.0.1: twelve sshd instances (ten that let us in, one whose key
// is not in known_hosts, one that does not accept our key), a port that accepts and never speaks, and a closed port.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fanout, parseHostsFile } from "../collector/run/fanout.js";
import { queryLedger } from "../lib/ledger/index.js";
import { runCli, runCliAsync } from "./helpers/cli.js";
import { scratchDir } from "./helpers/hermetic.js";
import { tempLedger } from "./helpers/ledger.js";
import { blackhole, freePort, knownHostsLines, makeKeyPair, startSshd } from "./helpers/sshd.js";
import type { Sshd } from "./helpers/sshd.js";

const dir = scratchDir("fanout-");
let good: Sshd[] = [];
let strangerKey: Sshd; // its host key is not in known_hosts
let wrongUser: Sshd; // authorizes another user key
let silent: Awaited<ReturnType<typeof blackhole>>;
let down: number;
let env: Record<string, string>;
let hostsFile: string;

const label = (port: number) => `127.0.0.1-${port}`;

beforeAll(async () => {
  const key = makeKeyPair(dir, "user");
  good = await Promise.all(Array.from({ length: 10 }, () => startSshd({ userKey: key })));
  strangerKey = await startSshd({ userKey: key });
  wrongUser = await startSshd();
  silent = await blackhole();
  down = await freePort();
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, knownHostsLines([...good, wrongUser]));
  env = { HWLEDGER_SSH_KEY: key.keyFile, HWLEDGER_KNOWN_HOSTS: knownHosts };
  hostsFile = join(dir, "hosts");
  writeFileSync(
    hostsFile,
    [
      "# the lab",
      ...good.slice(0, 5).map((s) => s.url),
      "",
      `ssh://${good[0].user}@127.0.0.1:${silent.port}   # accepts, never speaks`,
      ...good.slice(5).map((s) => `  ${s.url}  `),
      `ssh://${good[0].user}@127.0.0.1:${down}`,
      strangerKey.url,
      wrongUser.url,
    ].join("\n") + "\n",
  );
});

afterAll(async () => {
  await silent?.close();
  await Promise.all([...good, strangerKey, wrongUser].filter(Boolean).map((s) => s.stop()));
});

describe("hwledger collect --hosts", () => {
  it("collects every host that answers; the silent, closed, unknown-key and refused-key ones are probe_failed with their reason", async () => {
    const ledger = tempLedger();
    // A generous deadline: the silent host is let go by the SSH connect timeout (6 s), not by this.
    const r = await runCliAsync(["collect", "--hosts", hostsFile, "--ledger", ledger, "--host-timeout", "120", "--json"], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/^hwledger: collect: 4 of 14 hosts did not answer \(recorded as probe_failed in .*\): /)]);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ collected: 10, failed: 4 });
    const byHost = new Map(j.hosts.map((h: { host: string }) => [h.host, h]));
    for (const s of good) expect(byHost.get(label(s.port)), label(s.port)).toMatchObject({ status: "ok" });
    expect(byHost.get(label(silent.port))).toMatchObject({ status: "failed", code: "timeout", reason: expect.stringMatching(/no SSH handshake within 6 s/) });
    expect(byHost.get(label(down))).toMatchObject({ status: "failed", code: "refused" });
    expect(byHost.get(label(strangerKey.port))).toMatchObject({ status: "failed", code: "host-key-unknown", reason: expect.stringMatching(/not in .*known_hosts; refusing/) });
    expect(byHost.get(label(wrongUser.port))).toMatchObject({ status: "failed", code: "auth" });

    // The ledger: each answering host probed, each other one probe_failed with its code. (A tool of an answering
    // host may still time out on this loaded 2-core machine: that is that probe's probe_failed, without a code.)
    const rows = await queryLedger(ledger, "SELECT host, type, payload->>'code' AS code FROM events ORDER BY host, type");
    for (const s of good) expect(rows.filter((x) => x.host === label(s.port)).map((x) => x.type)).toContain("device_probed");
    expect(rows.filter((x) => x.type === "device_registered").length).toBeGreaterThan(0);
    const failedRows = rows.filter((x) => x.type === "probe_failed" && x.code !== null);
    expect(new Map(failedRows.map((x) => [x.host, x.code]))).toEqual(
      new Map([
        [label(silent.port), "timeout"],
        [label(down), "refused"],
        [label(strangerKey.port), "host-key-unknown"],
        [label(wrongUser.port), "auth"],
      ]),
    );

    // Again: a device already registered is not registered again (unless what the probe read of it changed).
    const again = await runCliAsync(["collect", "--hosts", hostsFile, "--ledger", ledger, "--host-timeout", "120", "--json"], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({ collected: 10, failed: 4 });
    expect(await queryLedger(ledger, "SELECT count(*)::INT AS n FROM events WHERE type = 'device_probed'")).toEqual([{ n: 20 }]);
    const twice = await queryLedger(
      ledger,
      "SELECT device_id FROM events WHERE type = 'device_registered' GROUP BY device_id, payload->>'name', payload->>'memoryBytes' HAVING count(*) > 1",
    );
    expect(twice).toEqual([]);
  }, 300_000); // two fan-outs over 14 hosts that share this loaded 2-core machine

  it("--trust-host-key records every new host's key, none lost to the others recorded at the same time", async () => {
    const ledger = tempLedger();
    const knownHosts = join(dir, "known_hosts_new");
    writeFileSync(knownHosts, "");
    const file = join(dir, "hosts_new");
    writeFileSync(file, good.map((s) => s.url).join("\n") + "\n");
    const r = await runCliAsync(["collect", "--hosts", file, "--ledger", ledger, "--host-timeout", "120", "--trust-host-key", "--json"], {
      env: { ...env, HWLEDGER_KNOWN_HOSTS: knownHosts },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ collected: 10, failed: 0 });
    expect(readFileSync(knownHosts, "utf8").trim().split("\n").sort()).toEqual(knownHostsLines(good).trim().split("\n").sort());
  }, 180_000);

  it("a host's deadline lets it go while it is still in its handshake; the others are not held up", async () => {
    const entries = parseHostsFile(`ssh://u@127.0.0.1:${silent.port}\n${good[0].url}\n`, "hosts");
    const saved = { key: process.env.HWLEDGER_SSH_KEY, kh: process.env.HWLEDGER_KNOWN_HOSTS };
    process.env.HWLEDGER_SSH_KEY = env.HWLEDGER_SSH_KEY;
    process.env.HWLEDGER_KNOWN_HOSTS = env.HWLEDGER_KNOWN_HOSTS;
    let out: Awaited<ReturnType<typeof fanout>>;
    try {
      // One at a time: the good host is only tried after the silent one was given up.
      out = await fanout(entries, { concurrency: 1, hostTimeoutMs: 1500, known: new Map() });
    } finally {
      for (const [k, v] of [["HWLEDGER_SSH_KEY", saved.key], ["HWLEDGER_KNOWN_HOSTS", saved.kh]] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    // Let go by its 1.5 s deadline (as the handshake limit or the host's), not by the 6 s default connect timeout.
    expect(out[0]).toMatchObject({ status: "failed", code: "timeout", reason: expect.stringMatching(/within 1\.5 s/) });
    expect(out[1].status === "ok" || (out[1].status === "failed" && out[1].code === "timeout")).toBe(true);
  });
});

describe("hosts file and flags", () => {
  it.each([
    ["a line that is not an SSH address", "ssh://a@h1\nhttp://h2\n", /^hosts line 2: not an SSH address: http:\/\/h2/],
    ["two addresses on one line", "# x\n\nssh://a@h1 ssh://a@h2\n", /^hosts line 3: one ssh:\/\/user@host\[:port\] per line/],
    ["a path", "ssh://a@h1:2222/srv\n", /^hosts line 1: a host has no path/],
    ["the same host twice", "ssh://a@h1:2222\nssh://b@h1:2222\n", /^hosts line 2: "ssh:\/\/b@h1:2222" is the same host \(h1-2222\) as line 1/],
    ["the same host with and without ssh://", "a@h1\nssh://a@h1:22\n", /^hosts line 2: "ssh:\/\/a@h1:22" is the same host \(h1\) as line 1/],
    ["no hosts", "# none yet\n\n", /^hosts: no hosts/],
  ])("%s is bad input naming the line", (_name, text, message) => {
    expect(() => parseHostsFile(text, "hosts")).toThrow(message);
  });

  it("reads comments, blank lines, spaces and user@host without the scheme", () => {
    const e = parseHostsFile("# fleet\n\n  ssh://me@gpu-1:2200  # rack 1\nme@gpu-2\nssh://me@[fd7a:115c:a1e0::1]:22\n", "hosts");
    expect(e).toEqual([
      { line: 3, target: "ssh://me@gpu-1:2200", host: "gpu-1-2200" },
      { line: 4, target: "ssh://me@gpu-2", host: "gpu-2" },
      { line: 5, target: "ssh://me@[fd7a:115c:a1e0::1]:22", host: "fd7a-115c-a1e0--1" },
    ]);
  });

  it.each([
    [["--concurrency", "0"], /--concurrency must be a whole number ≥ 1/],
    [["--host-timeout", "-1"], /--host-timeout must be positive/],
    [["--host", "ssh://a@h"], /give --host or --hosts, not both/],
    [["--interval", "5"], /--interval does not go with --hosts/],
    [[], /no SSH key: set HWLEDGER_SSH_KEY/],
  ])("collect --hosts %j: exit 2, one line", (flags, message) => {
    writeFileSync(join(dir, "one"), "ssh://a@127.0.0.1:1\n");
    const r = runCli(["collect", "--hosts", join(dir, "one"), ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(message)]);
  });

  it("a bad line in the file: exit 2 naming the line, nothing probed or written", () => {
    const f = join(dir, "bad");
    writeFileSync(f, "ssh://a@127.0.0.1:1\n\nfile:///etc/passwd\n");
    const ledger = tempLedger();
    const r = runCli(["collect", "--hosts", f, "--ledger", ledger]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd()).toBe(`hwledger: ${f} line 3: not an SSH address: file:///etc/passwd (only ssh://user@host[:port][/path] is supported, not file://)`);
  });

  it("--concurrency without --hosts is bad input", () => {
    expect(runCli(["collect", "--concurrency", "4"]).code).toBe(2);
  });
});
