// Renting on RunPod and Lambda Cloud end to end against local stand-ins of their APIs (real HTTP client code,
// the providers' own request and response formats; test/fixtures/cloud-api/SOURCES.md), a real sshd on
// 127.0.0.1 as the instance and the embedded llama.cpp as the engine. No cloud can be reached from here.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryLedger } from "../../lib/ledger/index.js";
import { ROOT } from "../helpers/cli.js";
import { cloudEnv, runCliAsync, tinyGguf } from "../helpers/cloud-env.js";
import { startSshd } from "../helpers/sshd.js";
import type { Sshd } from "../helpers/sshd.js";
import { startStandIn } from "../helpers/standin/core.js";
import type { StandIn } from "../helpers/standin/core.js";
import { lambdaShape } from "../helpers/standin/lambda.js";
import { runpodShape } from "../helpers/standin/runpod.js";

let sshd: Sshd;
let runpod: StandIn;
let lambda: StandIn;
let gguf: string;

beforeAll(async () => {
  sshd = await startSshd();
  const ssh = { host: "127.0.0.1", port: sshd.port, user: sshd.user };
  runpod = await startStandIn(runpodShape, "rpa_TESTKEY0123456789ABCDEF", { ssh });
  lambda = await startStandIn(lambdaShape, "secret_test-lambda-key_0123456789", { ssh });
  gguf = tinyGguf().path;
});
afterAll(async () => {
  await runpod?.close();
  await lambda?.close();
  await sshd?.stop();
});

const obj = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v) as Record<string, any>;
const events = async (ledger: string) =>
  (await queryLedger(ledger, "SELECT type, host, payload FROM events ORDER BY id").catch(() => [])).map((x) => ({ type: String(x.type), host: String(x.host), p: obj(x.payload) }));
const reset = (s: StandIn) => {
  s.violations.length = 0;
  s.seen.length = 0;
  s.script = { loadingPolls: 1, ssh: s.script.ssh };
};
const rentArgs = () => ["dispatch", "--gguf", gguf, "--engine", "llama.cpp", "--context", "512", "--tokens", "8", "--prompt", "8", "--rent", "--yes", "--ssh-user", sshd.user, "--remote-hwledger", ROOT, "--json"];

describe("RunPod (stand-in)", () => {
  it("dispatch --rent: gpuTypes → create pod → poll → SSH (ssh.direct) → run → terminate → the pod's billing in the ledger", async () => {
    reset(runpod);
    const e = cloudEnv({ sshKeyFile: sshd.keyFile, standins: [runpod], keyInEnv: false });
    // The key from RunPod's own config file (runpod-python writes [default] api_key), found through HOME.
    mkdirSync(join(e.home, ".runpod"));
    writeFileSync(join(e.home, ".runpod", "config.toml"), `[default]\napi_key = "${runpod.key}"\n`);
    const r = await runCliAsync(rentArgs(), e.env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.offer.provider).toBe("runpod");
    expect(out.job.status).toBe("completed");
    expect(runpod.violations).toEqual([]);
    const create = runpod.seen.find((s) => s.method === "POST" && s.path === "/v2/pods")!.body as Record<string, any>;
    expect(create.gpu).toEqual({ id: out.offer.gpuName, count: 1 });
    expect(create).toMatchObject({ ports: ["22/tcp"], startSsh: true, env: { PUBLIC_KEY: readFileSync(`${sshd.keyFile}.pub`, "utf8").trim() } });
    expect(runpod.seen.map((s) => `${s.method} ${s.path}`)).toEqual(expect.arrayContaining(["POST /graphql", "POST /v2/pods", `DELETE /v2/pods/${out.instance.instanceId}`, "GET /v2/billing/pods"]));
    const ev = await events(e.ledger);
    expect(ev.filter((x) => x.type.startsWith("instance_")).map((x) => x.type)).toEqual(["instance_requested", "instance_running", "instance_stopped"]);
    const cost = ev.find((x) => x.type === "cost_recorded")!;
    expect(cost).toMatchObject({ host: `runpod-${out.instance.instanceId}`, p: { basis: `runpod billing pod ${out.instance.instanceId}`, amount: out.cost.amount } });
  }, 180_000);

  it("a 429 with Retry-After is waited out; no capacity is one line, exit 1, instance_failed; a refused key exit 2", async () => {
    reset(runpod);
    const e = cloudEnv({ sshKeyFile: sshd.keyFile, standins: [runpod] });
    runpod.script.rateLimit = { times: 1, path: /^\/v2\/pods$/ };
    runpod.script.createError = "no-capacity";
    const offer = "runpod/NVIDIA GeForce RTX 4090 (community)";
    const r = await runCliAsync(["cloud", "up", "--offer", offer, "--yes"], e.env);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n").at(-1)).toBe(
      "hwledger: RunPod: no capacity: There are no longer any instances available with the requested specifications. Please refresh and try again.",
    );
    const creates = runpod.seen.filter((s) => s.method === "POST" && s.path === "/v2/pods");
    expect(creates).toHaveLength(2);
    expect(creates[1].at - creates[0].at).toBeGreaterThanOrEqual(950); // Retry-After: 1
    expect((await events(e.ledger)).filter((x) => x.type.startsWith("instance_")).map((x) => [x.type, x.p.code])).toEqual([["instance_requested", undefined], ["instance_failed", "no-capacity"]]);
    const bad = await runCliAsync(["cloud", "up", "--offer", offer, "--yes"], { ...e.env, RUNPOD_API_KEY: "rpa_WRONG" });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe("hwledger: RunPod: the API key was refused (HTTP 401: missing bearer token); check $RUNPOD_API_KEY or ~/.runpod/config.toml");
    expect(runpod.violations).toEqual([]);
  }, 60_000);

  it("--spot is refused before anything is rented (REST v2 rents on-demand pods only)", async () => {
    reset(runpod);
    const e = cloudEnv({ sshKeyFile: sshd.keyFile, standins: [runpod] });
    const r = await runCliAsync(["cloud", "up", "--offer", "runpod/NVIDIA GeForce RTX 4090 (community)", "--spot", "--yes"], e.env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n").at(-1)).toBe("hwledger: RunPod: the REST API v2 rents on-demand pods only; drop --spot");
    expect(runpod.instances.filter((i) => i.state !== "destroyed")).toEqual([]);
  }, 60_000);
});

describe("Lambda Cloud (stand-in)", () => {
  it("dispatch --rent: instance types → launch → poll → SSH → run → terminate → rate × duration in the ledger", async () => {
    reset(lambda);
    const e = cloudEnv({ sshKeyFile: sshd.keyFile, standins: [lambda] });
    // Lambda reports only an IP: SSH is port 22 there; the stand-in's instance is this test's sshd.
    const r = await runCliAsync([...rentArgs(), "--ssh-key-name", "my-key", "--ssh-port", String(sshd.port), "--spend-limit", "40"], e.env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.offer).toMatchObject({ provider: "lambda", offerId: "gpu_8x_h100_sxm5gdr", gpuCount: 8, perHour: 35.92 });
    expect(out.job.status).toBe("completed");
    expect(lambda.violations).toEqual([]);
    const launch = lambda.seen.find((s) => s.path === "/api/v1/instance-operations/launch")!.body;
    expect(launch).toMatchObject({ region_name: "us-west-1", instance_type_name: "gpu_8x_h100_sxm5gdr", ssh_key_names: ["my-key"], quantity: 1 });
    const term = lambda.seen.find((s) => s.path === "/api/v1/instance-operations/terminate")!.body;
    expect(term).toEqual({ instance_ids: [out.instance.instanceId] });
    const cost = (await events(e.ledger)).find((x) => x.type === "cost_recorded")!;
    expect(cost.p.basis).toMatch(/^rate × duration \(35\.92\/h × 0\.\d{3} h\)$/);
    expect(cost.p.amount).toBeCloseTo(out.cost.amount, 10);
  }, 180_000);

  it("insufficient capacity and a missing --ssh-key-name: one line each, the right exit code", async () => {
    reset(lambda);
    const e = cloudEnv({ sshKeyFile: sshd.keyFile, standins: [lambda] });
    const noKey = await runCliAsync(["cloud", "up", "--offer", "lambda/gpu_8x_h100_sxm5gdr", "--yes", "--spend-limit", "40"], e.env);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr.trim().split("\n").at(-1)).toBe("hwledger: Lambda Cloud launches need an SSH key registered with Lambda: pass --ssh-key-name NAME");
    lambda.script.createError = "no-capacity";
    const full = await runCliAsync(["cloud", "up", "--offer", "lambda/gpu_8x_h100_sxm5gdr", "--yes", "--spend-limit", "40", "--ssh-key-name", "k"], e.env);
    expect(full.code).toBe(1);
    expect(full.stderr.trim().split("\n").at(-1)).toBe("hwledger: Lambda Cloud: no capacity: Not enough capacity to fulfill launch request.");
    const codes = (await events(e.ledger)).filter((x) => x.type === "instance_failed").map((x) => x.p.code);
    expect(codes).toEqual(["bad-request", "no-capacity"]);
    expect(lambda.instances.filter((i) => i.state !== "destroyed")).toEqual([]);
    expect(lambda.violations).toEqual([]);
  }, 60_000);
});
