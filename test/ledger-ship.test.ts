// ledger ship over SFTP to a real OpenSSH server on 127.0.0.1: copies segments, never duplicates (re-ship,
// compaction on either side), resumes after an interruption, and spools offline while the target is down.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendEvents, compactLedger, queryLedger, scanLedger, shipLedger } from "../lib/ledger/index.js";
import type { SshOptions } from "../collector/transport/index.js";
import { folderTarget } from "../collector/transport/index.js";
import { runCli, runCliJson } from "./helpers/cli.js";
import { telemetry, tempLedger } from "./helpers/ledger.js";
import { blackhole, freePort, startSshd } from "./helpers/sshd.js";
import type { Sshd } from "./helpers/sshd.js";

let sshd: Sshd;
let knownHosts: string;
const dirs: string[] = [];
beforeAll(async () => {
  sshd = await startSshd();
  knownHosts = join(sshd.dir, "known_hosts_trusted");
  writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
});
afterAll(async () => {
  await sshd?.stop();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function ledger(): string {
  const d = tempLedger();
  dirs.push(join(d, ".."));
  return d;
}
/** A fresh central ledger folder on the "remote" (same machine, reached only through sshd). */
function central(): { dir: string; url: string } {
  const dir = join(sshd.dir, `central-${Math.random().toString(36).slice(2)}`);
  return { dir, url: `${sshd.url}${dir}` };
}
const opts = () => ({ identityFile: sshd.keyFile, knownHostsFile: knownHosts, connectTimeoutMs: 5000 });
/** The collector's transport for a URL or folder, as the CLI passes it to shipLedger. */
function to(url: string, o: SshOptions = {}) {
  const { transport, root } = folderTarget(url, o);
  return { fs: transport, root, label: url };
}
const all = "SELECT id, ts, host, device_id, type, payload::VARCHAR AS payload FROM events ORDER BY id";

describe("ledger ship", () => {
  it("copies every segment; shipping again copies nothing; the central ledger has exactly the same rows", async () => {
    const local = ledger();
    await appendEvents(local, telemetry(40, "a"));
    await appendEvents(local, telemetry(25, "b"));
    const c = central();
    const first = await shipLedger(local, to(c.url, opts()));
    expect(first.copied).toHaveLength(2);
    expect(first.skipped).toBe(0);
    const again = await shipLedger(local, to(c.url, opts()));
    expect(again).toMatchObject({ copied: [], skipped: 2, bytes: 0 });
    const third = await shipLedger(local, to(c.url, opts()));
    expect(third.copied).toEqual([]);
    expect(await queryLedger(c.dir, all)).toEqual(await queryLedger(local, all));
  });

  it("a segment compacted locally after shipping is not shipped again; a partly shipped one replaces its parts", async () => {
    const local = ledger();
    await appendEvents(local, telemetry(10, "a"));
    await appendEvents(local, telemetry(10, "a"));
    const c = central();
    await shipLedger(local, to(c.url, opts()));
    await compactLedger(local);
    expect((await shipLedger(local, to(c.url, opts()))).copied).toEqual([]);
    // New rows, then compaction merges them with already-shipped rows: shipped once, no row twice centrally.
    await appendEvents(local, telemetry(5, "a"));
    const r = await compactLedger(local);
    expect(r.rows).toBe(25);
    const s = await shipLedger(local, to(c.url, opts()));
    expect(s.copied).toEqual(r.written);
    expect(await queryLedger(c.dir, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events")).toEqual([{ n: 25, d: 25 }]);
    expect(await queryLedger(c.dir, all)).toEqual(await queryLedger(local, all));
    // Compacting the central ledger finishes the job there (replaced parts deleted), still 25 rows.
    const cc = await compactLedger(c.dir);
    expect(cc.rolledForward).toBe(2);
    expect((await scanLedger(c.dir)).segments).toHaveLength(1);
    expect((await shipLedger(local, to(c.url, opts()))).copied).toEqual([]);
    expect(await queryLedger(c.dir, "SELECT count(*) AS n FROM events")).toEqual([{ n: 25 }]);
  });

  it("segments compacted on the central side are recognised: re-shipping their parts copies nothing", async () => {
    const local = ledger();
    for (let i = 0; i < 3; i++) await appendEvents(local, telemetry(7, "h"));
    const c = central();
    await shipLedger(local, to(c.url, opts()));
    expect((await compactLedger(c.dir)).merged).toBe(3);
    expect((await shipLedger(local, to(c.url, opts()))).copied).toEqual([]);
    expect(await queryLedger(c.dir, "SELECT count(*) AS n FROM events")).toEqual([{ n: 21 }]);
  });

  it("resumes after an interrupted ship: a half-copied temp file is ignored and the rest is sent", async () => {
    const local = ledger();
    for (let i = 0; i < 4; i++) await appendEvents(local, telemetry(10, `h${i}`));
    const segs = (await scanLedger(local)).segments;
    const c = central();
    // What a ship killed mid-way leaves: one segment in place, one half-written temp file.
    await shipLedger(local, to(c.url, opts()));
    for (const s of segs.slice(1)) rmSync(join(c.dir, s.rel));
    writeFileSync(join(c.dir, segs[1].rel, "..", `.tmp-ship-${segs[1].name}`), "PAR1 half");
    expect(await queryLedger(c.dir, "SELECT count(*) AS n FROM events")).toEqual([{ n: 10 }]);
    const r = await shipLedger(local, to(c.url, opts()));
    expect(r.copied).toEqual(segs.slice(1).map((s) => s.rel));
    expect(await queryLedger(c.dir, all)).toEqual(await queryLedger(local, all));
  });

  it("offline spool: an unreachable or silent target fails cleanly, appends go on, a later ship sends everything", async () => {
    const local = ledger();
    const c = central();
    await appendEvents(local, telemetry(10, "edge"));
    const down = await freePort();
    const r1 = runCli(["ledger", "ship", "--ledger", local, "--to", `ssh://${sshd.user}@127.0.0.1:${down}${c.dir}`, "--identity", sshd.keyFile, "--known-hosts", knownHosts]);
    expect(r1.code).toBe(2);
    expect(r1.stderr.trim()).toBe(`hwledger: ssh ${sshd.user}@127.0.0.1:${down}: connection refused`);
    await appendEvents(local, telemetry(10, "edge"));
    const bh = await blackhole();
    try {
      const r2 = runCli([
        "ledger", "ship", "--ledger", local, "--to", `ssh://${sshd.user}@127.0.0.1:${bh.port}${c.dir}`,
        "--identity", sshd.keyFile, "--known-hosts", knownHosts, "--connect-timeout", "0.5",
      ]);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toMatch(/no SSH handshake within 0.5 s \(connect timeout\)/);
    } finally {
      await bh.close();
    }
    await appendEvents(local, telemetry(10, "edge"));
    expect(existsSync(c.dir)).toBe(false);
    const ok = runCliJson(["ledger", "ship", "--ledger", local, "--to", c.url, "--identity", sshd.keyFile, "--known-hosts", knownHosts]);
    expect(ok.copied).toHaveLength(3);
    expect(await queryLedger(c.dir, "SELECT count(*) AS n FROM events")).toEqual([{ n: 30 }]);
  });

  it("the CLI refuses an unknown host key unless --trust-host-key is given", async () => {
    const local = ledger();
    await appendEvents(local, telemetry(3, "x"));
    const c = central();
    const kh = join(sshd.dir, `kh-cli-${Date.now()}`);
    const args = ["ledger", "ship", "--ledger", local, "--to", c.url, "--identity", sshd.keyFile, "--known-hosts", kh];
    const refused = runCli(args);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is not in .*refusing \(use --trust-host-key to record it\)/);
    expect(existsSync(c.dir)).toBe(false);
    const ok = runCliJson([...args, "--trust-host-key"]);
    expect(ok.copied).toHaveLength(1);
    expect(runCliJson(args).copied).toEqual([]);
  });

  it("ships to a local folder too, and rejects a target without a path", async () => {
    const local = ledger();
    await appendEvents(local, telemetry(3, "x"));
    const dest = join(sshd.dir, "local-dest");
    mkdirSync(dest);
    expect((await shipLedger(local, to(dest))).copied).toHaveLength(1);
    expect((await shipLedger(local, to(dest))).copied).toHaveLength(0);
    expect(readdirSync(dest)).toHaveLength(1);
    const r = runCli(["ledger", "ship", "--ledger", local, "--to", `ssh://${sshd.user}@127.0.0.1:${sshd.port}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ship target needs a path/);
  });
});
