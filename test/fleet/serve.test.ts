// The central ledger over mutual TLS with real parts: certificates made by `hwledger certs` (the system openssl),
// `hwledger serve` as a child process (killed with -9 and restarted), agents pushing through the real spool and
// mTLS client, the real Parquet ledger read back with DuckDB.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { Agent } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, pushTarget } from "../../collector/agent/push.js";
import { Spool } from "../../collector/agent/spool.js";
import { initCa, issueCert } from "../../collector/serve/certs.js";
import { queryLedger } from "../../lib/ledger/index.js";
import { runCli } from "../helpers/cli.js";
import { eventLines, fleetCa, pushAll, spoolAgents, startServe } from "../helpers/fleet-serve.js";
import type { ServeProcess } from "../helpers/fleet-serve.js";
import { scratchDir } from "../helpers/hermetic.js";

const AGENTS = 100;
const PER_AGENT = 10_000;

const root = scratchDir("fleet-serve-");
const certs = join(root, "ca");
let names: string[] = [];
const servers: ServeProcess[] = [];

async function serve(ledger: string, port = 0, extra: string[] = []): Promise<ServeProcess> {
  const s = await startServe(ledger, certs, { port, extra });
  servers.push(s);
  return s;
}

async function metrics(s: ServeProcess): Promise<Record<string, number>> {
  const t = await pushTarget(s.url, certs, names[0]);
  const text = await new Promise<string>((resolve, reject) => {
    import("node:https").then(({ get }) =>
      get(new URL("/metrics", s.url), { agent: t.agent }, (res) => {
        let b = "";
        res.setEncoding("utf8").on("data", (d: string) => (b += d));
        res.on("end", () => resolve(b));
      }).on("error", reject),
    );
  });
  t.agent.destroy();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(hwledger_serve_\w+) (\d+)$/.exec(line);
    if (m) out[m[1].replace("hwledger_serve_", "")] = Number(m[2]);
  }
  return out;
}

async function counts(ledger: string, where = "true") {
  const [r] = await queryLedger(ledger, `SELECT count(*) AS n, count(DISTINCT id) AS ids, count(DISTINCT host) AS hosts FROM events WHERE ${where}`);
  return { n: Number(r.n), ids: Number(r.ids), hosts: Number(r.hosts) };
}

beforeAll(async () => {
  // 100 agent certificates (+ the server's), 8 openssl runs at a time.
  names = await fleetCa(certs, AGENTS);
}, 180_000);

afterAll(() => {
  for (const s of servers) s.child.kill("SIGKILL");
});

describe("hwledger certs", () => {
  it("writes keys 0600 and never prints them; a hostile or reserved name is exit 2 with one line", () => {
    for (const f of readdirSync(certs).filter((f) => f.endsWith("-key.pem"))) expect(statSync(join(certs, f)).mode & 0o777).toBe(0o600);
    const r = runCli(["certs", "issue", "--dir", certs, "--name", "extra-node", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY/);
    expect(JSON.parse(r.stdout).cert).toBe(join(certs, "extra-node.pem"));
    const subject = execFileSync("openssl", ["x509", "-in", join(certs, "extra-node.pem"), "-noout", "-subject", "-ext", "extendedKeyUsage"], { encoding: "utf8" });
    expect(subject).toMatch(/CN ?= ?extra-node/);
    expect(subject).toMatch(/TLS Web Client Authentication/);
    for (const bad of ["../etc/passwd", "a/b", "-rf", "", "ca", "x".repeat(65), "name\nnext", "é"]) {
      const b = runCli(["certs", "issue", "--dir", certs, "--name", bad]);
      expect(b.code, bad).toBe(2);
      expect(b.stderr.trim().split("\n")).toHaveLength(1);
    }
    // An existing CA or certificate is never replaced.
    expect(runCli(["certs", "init", "--dir", certs]).code).toBe(2);
    expect(runCli(["certs", "issue", "--dir", certs, "--name", "extra-node"]).code).toBe(2);
  });
});

describe("hwledger serve over mutual TLS", () => {
  let s: ServeProcess;
  const ledger = join(root, "ledger-tls");
  beforeAll(async () => {
    s = await serve(ledger);
  });

  /** A POST with this TLS client identity; status 0 when the TLS handshake (or the connection) failed. */
  const postAs = (opts: { cert?: Buffer; key?: Buffer; ca?: Buffer }, body: string) =>
    post({ url: new URL(s.url), agent: new Agent({ ca: readFileSync(join(certs, "ca.pem")), ...opts }) }, body, 10_000);

  it("prints its URL, answers /healthz and /metrics to a fleet client", async () => {
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const m = await metrics(s);
    for (const k of ["events_accepted_total", "events_duplicate_total", "events_rejected_total", "queue_events"]) expect(m[k]).toBeDefined();
  });

  it("refuses a client without a certificate, with an expired one, or with one from another CA", async () => {
    const body = eventLines(names[1], 3).join("\n");
    expect((await postAs({}, body)).status).toBe(0);
    // Expired: the fleet CA signs a certificate whose validity ended yesterday (openssl x509 -days -1).
    const key = join(root, "old-key.pem");
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
    execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/CN=old-node", "-out", join(root, "old.csr")]);
    writeFileSync(join(root, "old.ext"), "extendedKeyUsage=clientAuth\n");
    execFileSync("openssl", ["x509", "-req", "-in", join(root, "old.csr"), "-CA", join(certs, "ca.pem"), "-CAkey", join(certs, "ca-key.pem"), "-set_serial", "7", "-days", "-1", "-extfile", join(root, "old.ext"), "-out", join(root, "old.pem")]);
    expect(() => execFileSync("openssl", ["x509", "-in", join(root, "old.pem"), "-noout", "-checkend", "0"])).toThrow(); // expired
    expect((await postAs({ cert: readFileSync(join(root, "old.pem")), key: readFileSync(key) }, body)).status).toBe(0);
    // Another CA's certificate with a fleet name.
    const other = join(root, "other-ca");
    await initCa(other);
    await issueCert(other, names[1]);
    const foreign = { cert: readFileSync(join(other, `${names[1]}.pem`)), key: readFileSync(join(other, `${names[1]}-key.pem`)) };
    expect((await postAs(foreign, body)).status).toBe(0);
    // The same events with the fleet's own certificate go in.
    const own = { cert: readFileSync(join(certs, `${names[1]}.pem`)), key: readFileSync(join(certs, `${names[1]}-key.pem`)) };
    expect((await postAs(own, body)).status).toBe(200);
    expect(await counts(ledger)).toEqual({ n: 3, ids: 3, hosts: 1 });
    expect((await metrics(s)).clients_refused_total).toBeGreaterThanOrEqual(3);
  });

  it("stores each event under the certificate's host, whatever the body claims", async () => {
    const t = await pushTarget(s.url, certs, names[2]);
    const lines = eventLines(names[3], 5); // the body says agent-003
    const a = await post(t, lines.join("\n"));
    t.agent.destroy();
    expect(a.status).toBe(200);
    const ids = lines.map((l) => `'${JSON.parse(l).id}'`).join(",");
    const rows = await queryLedger(ledger, `SELECT DISTINCT host FROM events WHERE id IN (${ids})`);
    expect(rows).toEqual([{ host: names[2] }]);
    expect((await metrics(s)).events_host_rewritten_total).toBeGreaterThanOrEqual(5);
  });

  it("refuses an invalid batch whole (400) and writes nothing of it; a resent batch adds nothing", async () => {
    const t = await pushTarget(s.url, certs, names[4]);
    const good = eventLines(names[4], 4);
    const bad = [...good.slice(0, 2), JSON.stringify({ id: "not-a-ulid", ts: "2026-01-01T00:00:00Z", host: names[4], type: "telemetry_sample", payload: {} })];
    expect((await post(t, bad.join("\n"))).status).toBe(400);
    expect((await post(t, "{not json")).status).toBe(400);
    expect((await post(t, JSON.stringify(good.map((l) => JSON.parse(l))))).status).toBe(200); // a JSON array
    const before = await metrics(s);
    expect((await post(t, good.join("\n"))).status).toBe(200);
    t.agent.destroy();
    expect((await metrics(s)).events_duplicate_total - before.events_duplicate_total).toBe(4);
    expect(await counts(ledger, `host = '${names[4]}'`)).toEqual({ n: 4, ids: 4, hosts: 1 });
  });
});

describe("100 agents, server killed with -9 mid-push", () => {
  it(
    `every one of ${AGENTS} × ${PER_AGENT} events is in the ledger exactly once`,
    async () => {
      const ledger = join(root, "ledger-kill");
      const { agents, ids } = await spoolAgents(join(root, "spools"), names, PER_AGENT);
      let s = await serve(ledger);
      const port = new URL(s.url).port;
      const pushing = pushAll(s.url, certs, agents, Date.now() + 240_000);
      // Kill once a good part is acknowledged, while agents are still sending.
      for (let i = 0; i < 600 && ((await metrics(s).catch(() => ({}) as Record<string, number>)).events_accepted_total ?? 0) < ids / 4; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      s.child.kill("SIGKILL");
      await s.exited;
      await new Promise((r) => setTimeout(r, 500)); // agents see refused connections and back off
      s = await serve(ledger, Number(port));
      const results = await pushing;
      expect(results.every((r) => r.done && r.rejected === 0)).toBe(true);
      expect(await counts(ledger)).toEqual({ n: ids, ids, hosts: AGENTS });
      const perHost = await queryLedger(ledger, "SELECT count(*) AS n FROM events GROUP BY host HAVING count(*) <> " + PER_AGENT);
      expect(perHost).toEqual([]);
      for (const a of agents) expect(await a.spool.pending()).toBe(0);
    },
    300_000,
  );
});

describe("hwledger agent", () => {
  let s: ServeProcess;
  const ledger = join(root, "ledger-agent");
  beforeAll(async () => {
    s = await serve(ledger);
  });

  it("agent push killed with -9 mid-push resumes from its spool: nothing lost, nothing twice", async () => {
    const name = names[10];
    const file = join(root, "push.ndjson");
    const lines = eventLines(name, 40_000);
    writeFileSync(file, lines.join("\n") + "\n");
    const spool = join(root, "spool-push");
    const args = ["agent", "push", "--server", s.url, "--certs", certs, "--name", name, "--spool", spool, file];
    const { spawn } = await import("node:child_process");
    const { BIN_PATH, ROOT } = await import("../helpers/cli.js");
    const child = spawn(process.execPath, [BIN_PATH, ...args], { cwd: ROOT, stdio: "ignore" });
    const exited = new Promise((r) => child.on("exit", r));
    // Kill it once the server acknowledged some of it but not all.
    let acked = 0;
    for (let i = 0; i < 1200 && acked === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      acked = (await counts(ledger, `host = '${name}'`)).n;
    }
    child.kill("SIGKILL");
    await exited;
    const mid = (await counts(ledger, `host = '${name}'`)).n;
    expect(mid).toBeGreaterThan(0);
    expect(mid).toBeLessThan(lines.length);
    expect(await new Spool(spool).pending()).toBeGreaterThan(0);
    // Resume: push an empty file through the same spool (the spooled rest goes first).
    writeFileSync(join(root, "empty.ndjson"), "");
    const r = runCli(["agent", "push", "--server", s.url, "--certs", certs, "--name", name, "--spool", spool, join(root, "empty.ndjson"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(await counts(ledger, `host = '${name}'`)).toEqual({ n: lines.length, ids: lines.length, hosts: 1 });
    expect(await new Spool(spool).pending()).toBe(0);
  }, 120_000);

  it("agent --once pushes one real collection of this machine under its certificate name", () => {
    const name = names[11];
    const r = runCli(["agent", "--once", "--server", s.url, "--certs", certs, "--name", name, "--spool", join(root, "spool-once"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ name, samples: 1, rejected: 0, pending: 0 });
    expect(out.sent).toBeGreaterThan(0);
    return queryLedger(ledger, `SELECT DISTINCT type FROM events WHERE host = '${name}' ORDER BY type`).then((rows) => {
      expect(rows.map((x) => x.type)).toContain("device_probed");
    });
  });

  it("a full queue answers 503 with Retry-After; the agent backs off and everything arrives", async () => {
    const busy = await serve(join(root, "ledger-busy"), 0, ["--max-queue", "1"]);
    const spools = await Promise.all(
      names.slice(20, 30).map(async (name) => {
        const sp = await new Spool(join(root, `spool-busy-${name}`)).open();
        await sp.add(eventLines(name, 3000));
        return { name, spool: sp };
      }),
    );
    // Ten clients at once against a queue of one: those arriving while a batch is written get 503 + Retry-After.
    const answers = await Promise.all(
      spools.map(async ({ name }) => {
        const t = await pushTarget(busy.url, certs, name);
        const a = await post(t, eventLines(name, 3000).join("\n"));
        t.agent.destroy();
        return a;
      }),
    );
    expect(answers.some((a) => a.status === 503 && (a.retryAfterS ?? 0) >= 1)).toBe(true);
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
    const took = answers.filter((a) => a.status === 200).length * 3000;
    const r = await pushAll(busy.url, certs, spools, Date.now() + 100_000);
    expect(r.every((x) => x.done)).toBe(true);
    expect((await metrics(busy)).busy_total).toBeGreaterThan(0);
    expect(await counts(join(root, "ledger-busy"))).toEqual({ n: 30_000 + took, ids: 30_000 + took, hosts: 10 });
  }, 120_000);

  it("bad flags are exit 2 with one line", () => {
    for (const args of [
      ["agent", "--once", "--server", "http://x", "--certs", certs, "--name", names[0]],
      ["agent", "--once", "--server", s.url, "--certs", certs, "--name", "../x"],
      ["agent", "push", "--server", s.url, "--certs", join(root, "nope"), "--name", names[0], join(root, "push.ndjson")],
      ["serve", "--listen", "nowhere", "--certs", certs],
      ["serve", "--listen", "127.0.0.1:99999", "--certs", certs],
    ]) {
      const r = runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    writeFileSync(join(root, "bad.ndjson"), eventLines(names[0], 2).join("\n") + "\n{oops\n");
    const r = runCli(["agent", "push", "--server", s.url, "--certs", certs, "--name", names[0], "--spool", join(root, "spool-bad"), join(root, "bad.ndjson")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 3: not JSON/);
  });
});
