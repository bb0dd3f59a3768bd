// Renting on Vast.ai end to end against a local stand-in of its API (real HTTP client code; the provider's own
// request and response formats, test/fixtures/cloud-api/SOURCES.md), a real sshd on 127.0.0.1 as the "instance"
// and the embedded llama.cpp as the engine. No cloud can be reached from here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEvent } from "../../lib/fleet/events.js";
import { appendEvents, queryLedger } from "../../lib/ledger/index.js";
import { ROOT } from "../helpers/cli.js";
import { cloudEnv, runCliAsync, tinyGguf } from "../helpers/cloud-env.js";
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
  gguf = tinyGguf().path;
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

/** The rental events of a ledger, oldest first, with their payloads. */
const instanceEvents = async (ledger: string) =>
  (await rows(ledger, "SELECT type, payload FROM events WHERE type LIKE 'instance%' ORDER BY id")).map((x) => ({ type: String(x.type), p: obj(x.payload) }));
const lastLine = (s: string) => s.trim().split("\n").at(-1);
const up = (e: ReturnType<typeof fresh>, extra: string[] = []) => runCliAsync(["cloud", "up", "--offer", OFFER, "--yes", "--ssh-user", sshd.user, ...extra], e.env);

describe("hwledger cloud offers|up|status|down on Vast.ai (stand-in)", () => {
  it("offers: live from the stand-in, labelled; offline: the shipped snapshot, labelled as such", async () => {
    const e = fresh();
    const live = JSON.parse((await runCliAsync(["cloud", "offers", "--provider", "vastai", "--json"], e.env)).stdout);
    expect(live.sources).toEqual([{ provider: "vastai", mode: "live", offers: 1 }]);
    expect(live.offers[0]).toMatchObject({ offerId: "11684738", gpuName: "RTX 4090", onDemandPerHour: 0.2466759259259259, spotPerHour: 0.2, mode: "live" });
    const off = await runCliAsync(["cloud", "offers", "--provider", "vastai"], { ...e.env, HWLEDGER_OFFLINE: "1" });
    expect(off.code).toBe(0);
    expect(off.stdout.split("\n")[0]).toBe("vastai   SNAPSHOT (offline): 19 offers; prices may be stale and IDs no longer rentable");
  });

  it("up prints the price and the limit, status shows it and its cost so far, down stops it; down again is a no-op", async () => {
    const e = fresh();
    const r = await up(e, ["--spend-limit", "1", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/price: \$0\.2467\/h/);
    expect(r.stderr).toMatch(/spending limit: \$0\.49 \(max hours\)/);
    const u = JSON.parse(r.stdout);
    expect(u).toMatchObject({ provider: "vastai", ssh: { host: "127.0.0.1", port: sshd.port, user: sshd.user }, perHour: 0.2466759259259259 });
    const st = JSON.parse((await runCliAsync(["cloud", "status", "--json"], e.env)).stdout);
    expect(st.providersAsked).toEqual(["vastai"]);
    expect(st.rentals).toHaveLength(1);
    expect(st.rentals[0]).toMatchObject({ provider: "vastai", instanceId: u.instanceId, state: "running", providerState: "running", perHour: u.perHour, deadline: u.deadline });
    expect(st.rentals[0].costUsd).toBeGreaterThan(0);
    const d1 = await runCliAsync(["cloud", "down", `vastai/${u.instanceId}`, "--json"], e.env);
    expect(d1.code, d1.stderr).toBe(0);
    expect(JSON.parse(d1.stdout).outcomes[0]).toMatchObject({ instanceId: u.instanceId, result: "stopped" });
    expect(vast.instances.find((i) => i.id === u.instanceId)!.state).toBe("destroyed");
    const d2 = await runCliAsync(["cloud", "down", `vastai/${u.instanceId}`, "--json"], e.env);
    expect(d2.code, d2.stderr).toBe(0);
    expect(JSON.parse(d2.stdout).outcomes[0]).toMatchObject({ result: "already stopped" });
    expect((await runCliAsync(["cloud", "down", "--all"], e.env)).stdout).toBe("nothing to stop\n");
    expect((await instanceEvents(e.ledger)).map((x) => x.type)).toEqual(["instance_requested", "instance_running", "instance_stopped"]);
    expect(vast.violations).toEqual([]);
  }, 120_000);

  it("up --from-dispatch rents the best cloud offer of the last recorded dispatch that is still listed", async () => {
    const e = fresh();
    const top = [{ id: "catalog:rtx-4090" }, { id: "offer:vastai/13155272@United Arab Emirates, AE" }, { id: "offer:vastai/11684738@Guangxi, CN" }];
    await appendEvents(e.ledger, [makeEvent("dispatch_decided", { chosen: top[0].id, decision: { top } }, { host: "desk" })]);
    const r = await runCliAsync(["cloud", "up", "--from-dispatch", "--yes", "--ssh-user", sshd.user, "--json"], e.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^rent vastai\/11684738: 1× RTX 4090 \(Guangxi, CN\)$/m);
    const u = JSON.parse(r.stdout);
    expect(vast.instances.find((i) => i.id === u.instanceId)).toMatchObject({ offerId: "11684738", state: "running" });
    expect((await runCliAsync(["cloud", "down", "--all"], e.env)).code).toBe(0);
  }, 60_000);

  it("without a terminal and without --yes nothing is rented (exit 2)", async () => {
    const e = fresh();
    const before = vast.instances.length;
    const r = await runCliAsync(["cloud", "up", "--offer", OFFER], e.env);
    expect(r.code).toBe(2);
    expect(lastLine(r.stderr)).toBe("hwledger: renting costs money: pass --yes to rent without a terminal to confirm on");
    expect(vast.instances.length).toBe(before);
  });

  it("the daily limit refuses a rental it leaves no time for (exit 2, nothing created)", async () => {
    const e = fresh();
    const r = await up(e, ["--daily-limit", "0.01"]);
    expect(r.code).toBe(2);
    expect(lastLine(r.stderr)).toMatch(/^hwledger: the daily spending limit \$0\.01 leaves \$0\.01 \(\$0\.00 spent or committed today\): 2 min at \$0\.247\/h; raise --daily-limit$/);
  });

  it.each([
    { name: "a refused key", env: { VAST_API_KEY: "wrong-key-0123456789" } as Record<string, string>, args: [], code: 2, msg: /^hwledger: Vast\.ai: the API key was refused \(HTTP 404: Invalid user key\)/, failed: "bad-key" },
    { name: "an unknown offer", env: {} as Record<string, string>, args: ["--offer", "vastai/999"], code: 2, msg: /^hwledger: Vast\.ai: no offer "999" is listed now/, failed: "unknown-offer" },
  ])("$name: one line, exit $code, instance_failed recorded, nothing created", async ({ env, args, code, msg, failed }) => {
    const e = fresh();
    const before = vast.instances.length;
    const r = await runCliAsync(["cloud", "up", "--offer", OFFER, "--yes", ...args], { ...e.env, ...env });
    expect(r.code).toBe(code);
    expect(lastLine(r.stderr)).toMatch(msg);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect((await instanceEvents(e.ledger)).map((x) => [x.type, x.p.code])).toEqual([["instance_failed", failed]]);
    expect(vast.instances.length).toBe(before);
  });

  it.each([
    { name: "no capacity (410 no_such_ask)", script: { createError: "no-capacity" as const }, args: [], msg: /Vast\.ai: no capacity: the offer is no longer available \(error 410\/3907: no_such_ask Instance type 11684738 is no longer available\.\); pick another offer/, failed: "no-capacity", created: false },
    { name: "rate limited on every create", script: { rateLimit: { times: 99, path: /asks/ } }, args: [], msg: /Vast\.ai: rate limited \(HTTP 429 on PUT \/api\/v0\/asks\/11684738\/\); try again later/, failed: "rate-limited", created: false },
    { name: "outbid (interruptible)", script: { outbid: true }, args: ["--spot"], msg: /Vast\.ai: instance \d+ was outbid \(bid \$0\.2\/h\): raise --bid or rent on-demand/, failed: "outbid", created: true },
    { name: "never reaches running", script: { neverRunning: true }, args: ["--ready-timeout", "3"], msg: /Vast\.ai: instance \d+ did not reach running within 3 s \(last state: loading\)/, failed: "never-running", created: true },
  ])("$name: one line, exit 1, instance_failed recorded, nothing left running", async ({ script, args, msg, failed, created }) => {
    const e = fresh();
    Object.assign(vast.script, script);
    const before = vast.instances.length;
    const r = await up(e, args);
    expect(r.code, r.stderr).toBe(1);
    expect(lastLine(r.stderr)).toMatch(new RegExp(`^hwledger: ${msg.source}$`));
    const ev = await instanceEvents(e.ledger);
    expect(ev.map((x) => x.type)).toEqual(["instance_requested", "instance_failed"]);
    expect(ev[1].p.code).toBe(failed);
    expect(vast.instances.length - before).toBe(created ? 1 : 0);
    expect(vast.instances.slice(before).every((i) => i.state === "destroyed")).toBe(true);
    if (created) expect((await rows(e.ledger, "SELECT count(*) AS n FROM events WHERE type = 'cost_recorded'"))[0].n).toBe(1);
    expect(vast.violations).toEqual([]);
  }, 60_000);

  it("a 429 is retried after a pause and the rental goes on", async () => {
    const e = fresh();
    vast.script.rateLimit = { times: 1, path: /asks/ };
    const r = await up(e, ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    const creates = vast.seen.filter((s) => s.method === "PUT" && s.path.startsWith("/api/v0/asks/")).slice(-2);
    expect(creates).toHaveLength(2);
    // Vast documents no Retry-After: the client backs off (1 s) before the second try.
    expect(creates[1].at - creates[0].at).toBeGreaterThanOrEqual(900);
    await runCliAsync(["cloud", "down", "--all"], e.env);
  }, 60_000);
});
