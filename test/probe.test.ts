// Probe plugins and `hwledger probe` for real: the Linux probe on this machine and over SSH against a real
// OpenSSH server on 127.0.0.1; GPU runners on replayed verbatim tool outputs (no GPU here).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalTransport } from "../collector/transport/index.js";
import { hostLabel } from "../collector/run/probe-host.js";
import { queryLedger } from "../lib/ledger/index.js";
import { discoverPlugins, probePlugins } from "../plugins/index.js";
import type { ExecResult, ProbeTransport } from "../plugins/manifest.js";
import { probeLinux } from "../plugins/probe-linux/index.js";
import { probeNvidia } from "../plugins/probe-nvidia/index.js";
import { probeAmd } from "../plugins/probe-amd/index.js";
import { probeApple } from "../plugins/probe-apple/index.js";
import { runCli as runCliRaw, runCliAsync } from "./helpers/cli.js";
import { blackhole, freePort, startSshd } from "./helpers/sshd.js";
import type { Sshd } from "./helpers/sshd.js";
import { tempLedger } from "./helpers/ledger.js";

// probe refreshes collect's device cache under $XDG_STATE_HOME: a temp dir here, not the user's home.
const STATE = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), "hwledger-state-")) };
const runCli = (args: string[], opts: { env?: Record<string, string> } = {}) => runCliRaw(args, { env: { ...STATE, ...opts.env } });

const sample = (p: string) => readFileSync(new URL(`./fixtures/samples/${p}`, import.meta.url), "utf8");

/** Replays recorded outputs of real tools by command name; anything else is "command not found" (exit 127). */
class Replay implements ProbeTransport {
  calls: string[][] = [];
  constructor(private outputs: Record<string, Partial<ExecResult>>) {}
  async exec(argv: string[]): Promise<ExecResult> {
    this.calls.push(argv);
    const key = Object.keys(this.outputs).find((k) => argv.join(" ").startsWith(k));
    if (!key) return { code: 127, stdout: "", stderr: `sh: 1: ${argv[0]}: not found\n` };
    return { code: 0, stdout: "", stderr: "", ...this.outputs[key] };
  }
}

const onPath = (bin: string) => (process.env.PATH ?? "").split(delimiter).some((d) => existsSync(join(d, bin)));

describe("probe plugins", () => {
  it("are discovered from their folders and their manifests validate", async () => {
    const found = await discoverPlugins("probe");
    expect(found.map((p) => p.folder)).toEqual(["probe-amd", "probe-apple", "probe-linux", "probe-nvidia"]);
    expect((await probePlugins()).every((p) => typeof p.probe === "function" && typeof p.detect === "function")).toBe(true);
  });

  it("every plugin folder in the tree (engines, prices, probes) has a manifest that validates, kind matching its folder", async () => {
    const all = await discoverPlugins();
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const p of all) expect(p.folder.startsWith(p.manifest.kind === "architecture" ? "arch-" : `${p.manifest.kind}-`)).toBe(true);
  });

  it("a folder with an invalid manifest is named in a one-line error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hwledger-plugins-"));
    mkdirSync(join(dir, "probe-broken"));
    writeFileSync(join(dir, "probe-broken", "index.js"), `export const manifest = { kind: "probe", name: "probe-broken", version: "1.0.0", description: "x" };\n`);
    await expect(discoverPlugins("probe", dir)).rejects.toThrow(/^plugin probe-broken: invalid manifest: detect: /);
  });

  it("Linux probe reads this machine for real", async () => {
    const r = await probeLinux(new LocalTransport());
    expect(r.status).toBe("ok");
    expect(r.host?.ramTotalBytes).toBe(totalmem()); // both are /proc/meminfo MemTotal
    expect(r.host?.cpuCount).toBe(cpus().length);
    expect(r.host!.ramAvailableBytes!).toBeLessThanOrEqual(r.host!.ramTotalBytes!);
  });

  it("NVIDIA probe on this machine: missing exactly when nvidia-smi is not installed", async () => {
    const r = await probeNvidia(new LocalTransport());
    expect(r.status === "missing").toBe(!onPath("nvidia-smi"));
    if (r.status === "missing") expect(r.reason).toBe("nvidia-smi not found");
  });

  it("NVIDIA probe: a driver that is not loaded is a failed status with nvidia-smi's words", async () => {
    // nvidia-smi prints this on stdout and exits 9 (NVML_ERROR_DRIVER_NOT_LOADED).
    const t = new Replay({ "nvidia-smi": { code: 9, stdout: sample("nvidia/error-driver-communicate-2line-qixuema-envs-4.txt") } });
    const r = await probeNvidia(t);
    expect(r).toEqual({
      probe: "probe-nvidia",
      status: "failed",
      reason: "nvidia-smi: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
      gpus: [],
    });
  });

  it("NVIDIA probe: asks --query-gpu and --query-compute-apps as argument arrays and reads both", async () => {
    const t = new Replay({
      "nvidia-smi --query-gpu": { stdout: sample("nvidia/query-gpu-allfields-h100-load-590.csv") },
      "nvidia-smi --query-compute-apps": { stdout: sample("nvidia/query-compute-apps-h100-load-590.csv") },
    });
    const r = await probeNvidia(t);
    expect(r.status).toBe("ok");
    expect(r.gpus.map((g) => [g.name, g.memoryUsedBytes])).toEqual([["NVIDIA H100 80GB HBM3", 19818 * 1024 * 1024]]);
    expect(r.processes?.map((p) => p.pid)).toEqual([11327, 11328, 11345]);
    expect(t.calls[0]).toEqual([
      "nvidia-smi",
      "--query-gpu=index,uuid,name,pci.bus_id,driver_version,memory.total,memory.used,utilization.gpu,power.draw,power.limit,temperature.gpu",
      "--format=csv,noheader,nounits",
    ]);
  });

  it("AMD probe: neither rocm-smi nor amd-smi is a missing status; Apple probe without system_profiler too", async () => {
    expect(await probeAmd(new Replay({}))).toEqual({ probe: "probe-amd", status: "missing", reason: "rocm-smi and amd-smi not found", gpus: [] });
    expect((await probeApple(new Replay({}))).status).toBe("missing");
  });
});

describe("ledger host names", () => {
  it("one host has one name however its address is written; ports tell shared addresses apart", () => {
    expect(hostLabel("ssh://alice@gpu-box.lan")).toBe("gpu-box.lan");
    expect(hostLabel("alice@gpu-box.lan")).toBe("gpu-box.lan");
    expect(hostLabel("gpu-box.lan:22")).toBe("gpu-box.lan");
    expect(hostLabel("ssh://alice@127.0.0.1:2222/srv")).toBe("127.0.0.1-2222");
    expect(hostLabel("alice@127.0.0.1:2222")).toBe("127.0.0.1-2222");
    expect(hostLabel("ssh://[::1]:2200")).toBe("ipv6--1-2200");
    expect(hostLabel("me@[fd7a:115c:a1e0::1]")).toBe("fd7a-115c-a1e0--1");
    expect(hostLabel("local")).toBe(hostLabel());
  });
});

describe("hwledger probe", () => {
  let sshd: Sshd;
  let env: Record<string, string>;
  beforeAll(async () => {
    sshd = await startSshd();
    writeFileSync(sshd.knownHostsFile, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    env = { HWLEDGER_SSH_KEY: sshd.keyFile, HWLEDGER_KNOWN_HOSTS: sshd.knownHostsFile };
  });
  afterAll(async () => sshd?.stop());

  it("probes this machine, registers it once, and records device_probed every time", async () => {
    const ledger = tempLedger();
    const a = runCli(["probe", "--ledger", ledger, "--json"]);
    expect(a.code, a.stderr).toBe(0);
    const j = JSON.parse(a.stdout);
    expect(j).toMatchObject({ target: "local", os: "Linux", ramTotalBytes: totalmem(), cpuCount: cpus().length });
    expect(j.recorded).toEqual(["device_registered", "device_probed"]);
    const b = runCli(["probe", "--ledger", ledger, "--json"]);
    expect(JSON.parse(b.stdout).recorded).toEqual(["device_probed"]);
    const rows = await queryLedger(ledger, "SELECT type, device_id, payload->>'memoryBytes' AS mem FROM events ORDER BY id");
    expect(rows.map((r) => r.type)).toEqual(["device_registered", "device_probed", "device_probed"]);
    expect(rows[0]).toMatchObject({ device_id: `${j.host}/cpu`, mem: String(totalmem()) });
  });

  it("probes a remote host over SSH (real sshd on 127.0.0.1)", async () => {
    const ledger = tempLedger();
    const r = runCli(["probe", "--host", sshd.url, "--ledger", ledger, "--json"], { env });
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    // Same machine behind the SSH server: the same RAM, read through the remote shell.
    expect(j).toMatchObject({ host: `127.0.0.1-${sshd.port}`, target: sshd.url, os: "Linux", ramTotalBytes: totalmem(), cpuCount: cpus().length });
    expect(j.probes.find((p: { probe: string }) => p.probe === "probe-nvidia").status).toBe(onPath("nvidia-smi") ? expect.any(String) : "missing");
    const rows = await queryLedger(ledger, "SELECT host, type FROM events ORDER BY id");
    expect(rows).toEqual([
      { host: `127.0.0.1-${sshd.port}`, type: "device_registered" },
      { host: `127.0.0.1-${sshd.port}`, type: "device_probed" },
    ]);
  });

  it("a host that refuses connections is a probe_failed event (code refused) and exit 2 with one line", async () => {
    const ledger = tempLedger();
    const port = await freePort(); // nothing listens there
    const url = `ssh://nobody@127.0.0.1:${port}`;
    const r = runCli(["probe", "--host", url, "--ledger", ledger, "--json"], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^hwledger: probe of ${url} failed: `));
    const rows = await queryLedger(ledger, "SELECT type, payload->>'target' AS target, payload->>'reason' AS reason, payload->>'code' AS code FROM events");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: "probe_failed", target: url, code: "refused" });
    expect(String(rows[0].reason)).toMatch(/ECONNREFUSED|refused/i);
  });

  it("a host that accepts and never speaks: exit 2 after the default 6 s connect timeout (issue 12: under 10 s)", async () => {
    const ledger = tempLedger();
    const bh = await blackhole();
    try {
      const url = `ssh://nobody@127.0.0.1:${bh.port}`;
      const r = await runCliAsync(["probe", "--host", url, "--ledger", ledger], { env: { ...STATE, ...env } });
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split("\n")).toEqual([`hwledger: probe of ${url} failed: ssh nobody@127.0.0.1:${bh.port}: no SSH handshake within 6 s (connect timeout)`]);
      expect(await queryLedger(ledger, "SELECT payload->>'code' AS code FROM events")).toEqual([{ code: "timeout" }]);
    } finally {
      await bh.close();
    }
  });

  it("a host whose key is unknown is refused (probe_failed) unless --trust-host-key", async () => {
    const ledger = tempLedger();
    const empty = join(mkdtempSync(join(tmpdir(), "hwledger-kh-")), "known_hosts");
    writeFileSync(empty, "");
    const e2 = { ...env, HWLEDGER_KNOWN_HOSTS: empty };
    const refused = runCli(["probe", "--host", sshd.url, "--ledger", ledger], { env: e2 });
    expect(refused.code).toBe(2);
    const ok = runCli(["probe", "--host", sshd.url, "--ledger", ledger, "--trust-host-key"], { env: e2 });
    expect(ok.code, ok.stderr).toBe(0);
    const rows = await queryLedger(ledger, "SELECT type FROM events ORDER BY id");
    expect(rows.map((r) => r.type)).toEqual(["probe_failed", "device_registered", "device_probed"]);
  });

  it("a malformed host is bad input: exit 2, nothing recorded", () => {
    const ledger = tempLedger();
    const r = runCli(["probe", "--host", "ssh://", "--ledger", ledger]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(ledger)).toBe(false);
  });
});
