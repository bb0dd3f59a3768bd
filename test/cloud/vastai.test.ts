// Renting on Vast.ai end to end against a local stand-in of its API (real HTTP client code; the provider's own
// request and response formats, test/fixtures/cloud-api/SOURCES.md), a real sshd on 127.0.0.1 as the "instance"
// and the embedded llama.cpp as the engine. No cloud can be reached from here.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryLedger } from "../../lib/ledger/index.js";
import { ROOT } from "../helpers/cli.js";
import { cloudEnv, runCliAsync } from "../helpers/cloud-env.js";
import { tinyModel, writeGguf } from "../helpers/gguf-writer.js";
import { startSshd } from "../helpers/sshd.js";
import type { Sshd } from "../helpers/sshd.js";
import { startStandIn } from "../helpers/standin/core.js";
import type { StandIn } from "../helpers/standin/core.js";
import { vastShape } from "../helpers/standin/vast.js";

const KEY = "vast-test-key-0123456789abcdef";
const OFFER = "vastai/11684738"; // the captured `search offers --raw` row: 1× RTX 4090 at 0.2467/h, min_bid 0.2
let sshd: Sshd;
let vast: StandIn;
let gguf: string;

beforeAll(async () => {
  sshd = await startSshd();
  vast = await startStandIn(vastShape, KEY, { ssh: { host: "127.0.0.1", port: sshd.port, user: sshd.user } });
  gguf = join(mkdtempSync(join(tmpdir(), "hwledger-cloud-gguf-")), "tiny.gguf");
  const m = tinyModel({ arch: "llama", nLayer: 2, nEmbd: 128, nHead: 4, nHeadKv: 2 });
  writeGguf(gguf, m.metadata, m.tensors);
});
afterAll(async () => {
  await vast?.close();
  await sshd?.stop();
});

const rows = (ledger: string, sql: string) => queryLedger(ledger, sql).catch(() => [] as Record<string, unknown>[]);
const obj = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v) as Record<string, any>;
const fresh = () => {
  vast.violations.length = 0;
  vast.script = { loadingPolls: 1, ssh: vast.script.ssh };
  return cloudEnv({ sshKeyFile: sshd.keyFile, standins: [vast] });
};

describe("hwledger dispatch --rent on Vast.ai (stand-in)", () => {
  it("offer → create → poll → SSH → run → actuals → destroy → cost in the ledger", async () => {
    const e = fresh();
    const r = await runCliAsync(
      ["dispatch", "--gguf", gguf, "--engine", "llama.cpp", "--context", "512", "--tokens", "8", "--prompt", "8", "--rent", "--yes", "--ssh-user", sshd.user, "--remote-hwledger", ROOT, "--json"],
      e.env,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.offer).toMatchObject({ provider: "vastai", offerId: "11684738", gpuName: "RTX 4090", gpuCount: 1 });
    expect(out.job.status).toBe("completed");
    expect(out.job.actual.kvCacheBytes).toBeGreaterThan(0);
    expect(out.job.actual.decodeTokensPerSecond).toBeGreaterThan(0);
    // The stand-in saw the documented calls in order, each with the Bearer header, and no malformed request.
    expect(vast.violations).toEqual([]);
    const calls = vast.seen.map((s) => `${s.method} ${s.path.replace(/\d{5,}/g, "N")}`);
    expect(calls[0]).toBe("POST /api/v0/bundles/");
    expect(calls).toContain("PUT /api/v0/asks/N/");
    expect(calls.filter((c) => c === "GET /api/v0/instances/N/").length).toBeGreaterThanOrEqual(2);
    expect(calls.indexOf("DELETE /api/v0/instances/N/")).toBeGreaterThan(calls.indexOf("PUT /api/v0/asks/N/"));
    const create = vast.seen.find((s) => s.method === "PUT")!.body as Record<string, unknown>;
    expect(create).toMatchObject({ runtype: "ssh_direct", target_state: "running" });
    expect(String(create.label)).toMatch(/^hwledger-[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(vast.instances.at(-1)!.state).toBe("destroyed");
    // The ledger: intent, running, the job on the instance's host, stopped, and the provider's own charge.
    const host = `vastai-${out.instance.instanceId}`;
    expect(out.instance.host).toBe(host);
    const ev = await rows(e.ledger, "SELECT type, host, payload FROM events ORDER BY id");
    const types = ev.map((x) => x.type);
    expect(types.filter((t) => String(t).startsWith("instance_"))).toEqual(["instance_requested", "instance_running", "instance_stopped"]);
    expect(types.indexOf("job_completed")).toBeGreaterThan(types.indexOf("instance_running"));
    expect(ev.find((x) => x.type === "job_completed")!.host).toBe(host);
    const cost = ev.find((x) => x.type === "cost_recorded")!;
    expect(cost.host).toBe(host);
    expect(obj(cost.payload)).toMatchObject({ currency: "USD", basis: `vastai charges instance-${out.instance.instanceId}`, provider: "vastai", amount: out.cost.amount });
    // costs --by day lists the rented instance as a device row with its recorded cost.
    const bill = await runCliAsync(["costs", "--by", "day", "--json"], e.env);
    const row = JSON.parse(bill.stdout).find((b: { device: string }) => b.device === host);
    expect(row).toMatchObject({ jobs: 1, cost: out.cost.amount });
    expect(row.basis).toMatch(/vastai charges/);
  }, 180_000);
});
