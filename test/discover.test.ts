// hosts discover --tailscale on a verbatim `tailscale status --json` (test/fixtures/tailscale, SOURCES.md): no
// tailnet can be joined here, so the live path runs a `tailscale` on PATH that prints that same saved output.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hostsLine, parseTailscaleStatus, tailscaleCandidates } from "../collector/discover/tailscale.js";
import { parseHostsFile } from "../collector/run/fanout.js";
import { runCli } from "./helpers/cli.js";
import { scratchDir } from "./helpers/hermetic.js";

const FIXTURE = new URL("./fixtures/tailscale/status-ikuai-1.76.1.json", import.meta.url).pathname;
const text = readFileSync(FIXTURE, "utf8");
const dir = scratchDir("discover-");

describe("tailscale status --json", () => {
  it("lists the peers (not this node) with their MagicDNS name, addresses, OS and state", () => {
    const peers = tailscaleCandidates(parseTailscaleStatus(text, "f"), "f");
    expect(peers).toEqual([
      {
        name: "iStoreOS",
        dnsName: "istoreos.tail1fb5f0.ts.net",
        os: "linux",
        online: true,
        ips: ["100.103.182.58", "fd7a:115c:a1e0::f01:b63a"],
        address: "istoreos.tail1fb5f0.ts.net",
        tags: [],
      },
    ]);
  });

  it("hosts-file lines that collect --hosts reads back; offline peers commented out, IPv6 bracketed", () => {
    const [peer] = tailscaleCandidates(parseTailscaleStatus(text, "f"), "f");
    expect(hostsLine(peer, { user: "me", port: 22 })).toBe("ssh://me@istoreos.tail1fb5f0.ts.net:22");
    expect(hostsLine({ ...peer, online: false }, { port: 2222 })).toBe("# ssh://istoreos.tail1fb5f0.ts.net:2222  (offline)");
    expect(hostsLine({ ...peer, dnsName: null, address: "fd7a:115c:a1e0::f01:b63a" }, { user: "me", port: 22 })).toBe("ssh://me@[fd7a:115c:a1e0::f01:b63a]:22");
    const lines = [hostsLine(peer, { user: "me", port: 22 }), hostsLine({ ...peer, name: "x", address: "100.103.182.58" }, { user: "me", port: 22 })];
    expect(parseHostsFile(lines.join("\n"), "h").map((e) => e.host)).toEqual(["istoreos.tail1fb5f0.ts.net", "100.103.182.58"]);
  });

  it("a node that is not running is refused; a file that is not a status is bad input", () => {
    const stopped = { ...JSON.parse(text), BackendState: "NeedsLogin" };
    expect(() => tailscaleCandidates(parseTailscaleStatus(JSON.stringify(stopped), "f"), "f")).toThrow(/tailscale is not running here \(BackendState "NeedsLogin"\)/);
    expect(() => parseTailscaleStatus("{", "f")).toThrow(/^f: not JSON/);
    expect(() => parseTailscaleStatus('{"Peer": {}}', "f")).toThrow(/^f: not a `tailscale status --json` output \(BackendState: /);
  });
});

describe("hwledger hosts discover --tailscale", () => {
  const from = ["hosts", "discover", "--tailscale", "--from", FIXTURE];

  it("prints a table, --json, or --hosts-file lines; writes nothing", () => {
    const t = runCli(from);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout.split("\n")[1]).toMatch(/^iStoreOS\s+istoreos\.tail1fb5f0\.ts\.net\s+linux\s+yes\s+100\.103\.182\.58 fd7a:115c:a1e0::f01:b63a$/);
    const j = JSON.parse(runCli([...from, "--json"]).stdout);
    expect(j.peers.map((p: { hostsLine: string }) => p.hostsLine)).toEqual(["ssh://istoreos.tail1fb5f0.ts.net:22"]);
    const h = runCli([...from, "--hosts-file", "--user", "root", "--port", "2222"]);
    expect(h.stdout.trimEnd().split("\n").slice(1)).toEqual(["ssh://root@istoreos.tail1fb5f0.ts.net:2222"]);
  });

  it("runs `tailscale status --json` when no --from is given", () => {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "tailscale"), `#!/bin/sh\n[ "$1 $2" = "status --json" ] || exit 64\nexec cat '${FIXTURE}'\n`);
    chmodSync(join(bin, "tailscale"), 0o755);
    const r = runCli(["hosts", "discover", "--tailscale", "--json"], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ source: "tailscale", peers: [{ name: "iStoreOS" }] });
  });

  it.each([
    ["no tailscale on PATH", ["hosts", "discover", "--tailscale"], { PATH: "/nonexistent" }, /^hwledger: tailscale is not installed \(no `tailscale` on PATH\)/],
    ["no source", ["hosts", "discover"], {}, /^hwledger: hosts discover needs a source: --tailscale$/],
    ["a file that is not a status", ["hosts", "discover", "--tailscale", "--from", "package.json"], {}, /^hwledger: package\.json: not a `tailscale status --json` output/],
    ["a missing file", ["hosts", "discover", "--tailscale", "--from", "no-such.json"], {}, /^hwledger: .*no-such\.json/],
    ["a bad port", [...from, "--port", "0"], {}, /^hwledger: --port must be a TCP port/],
    ["a bad user", [...from, "--user", "a b"], {}, /^hwledger: --user must be a user name/],
  ])("%s: exit 2, one line", (_name, args, env, message) => {
    const r = runCli(args as string[], { env: env as Record<string, string> });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(message)]);
  });
});
