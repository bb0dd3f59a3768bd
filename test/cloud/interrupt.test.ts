// kill -9 never hides an instance: the intent is in the ledger before the provider is asked, and status
// reconciles it with the provider's list by the tag hwledger sets. Vast.ai stand-in, real sshd, real llama.cpp.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEvent } from "../../lib/fleet/events.js";
import { labelFor } from "../../lib/fleet/rent.js";
import { ulid } from "../../lib/fleet/ulid.js";
import { appendEvents, queryLedger } from "../../lib/ledger/index.js";
import { ROOT } from "../helpers/cli.js";
import { cloudEnv, killProcessesMentioning, runCliAsync, spawnCli, tinyGguf, until } from "../helpers/cloud-env.js";
import { startSshd } from "../helpers/sshd.js";
import type { Sshd } from "../helpers/sshd.js";
import { startStandIn } from "../helpers/standin/core.js";
import type { StandIn } from "../helpers/standin/core.js";
import { vastShape } from "../helpers/standin/vast.js";

let sshd: Sshd;
let vast: StandIn;
let ggufDir: string;
let gguf: string;

beforeAll(async () => {
  sshd = await startSshd();
  vast = await startStandIn(vastShape, "vast-interrupt-key-0123456789", { ssh: { host: "127.0.0.1", port: sshd.port, user: sshd.user } });
  ({ dir: ggufDir, path: gguf } = tinyGguf());
});
afterAll(async () => {
  killProcessesMentioning(ggufDir);
  await vast?.close();
  await sshd?.stop();
});

const status = async (env: Record<string, string>) => {
  const r = await runCliAsync(["cloud", "status", "--json"], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { rentals: Array<Record<string, any>> };
};

describe("interrupted rentals", () => {
  it("kill -9 while `cloud up` waits for the instance: status shows it, down --all destroys it", async () => {
    vast.script = { loadingPolls: 1, ssh: vast.script.ssh, neverRunning: true };
    const e = cloudEnv({ sshKeyFile: sshd.keyFile, standins: [vast] });
    const before = vast.instances.length;
    const up = spawnCli(["cloud", "up", "--offer", "vastai/11684738", "--yes", "--ssh-user", sshd.user], e.env);
    await until(() => vast.instances.length > before, 60_000, "the create request");
    up.child.kill("SIGKILL");
    await up.exited;
    const inst = vast.instances.at(-1)!;
    // Only the intent is in the ledger; the provider's list (by label) supplies the instance.
    const s1 = await status(e.env);
    expect(s1.rentals).toHaveLength(1);
    expect(s1.rentals[0]).toMatchObject({ provider: "vastai", instanceId: inst.id, label: inst.label, state: "pending", providerState: "loading", perHour: 0.2466759259259259 });
    const down = await runCliAsync(["cloud", "down", "--all", "--json"], e.env);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout).outcomes).toMatchObject([{ instanceId: inst.id, result: "stopped" }]);
    expect(inst.state).toBe("destroyed");
    expect((await status(e.env)).rentals[0]).toMatchObject({ instanceId: inst.id, state: "terminated", reason: "cloud down --all" });
    expect(vast.violations).toEqual([]);
  }, 120_000);

  it("kill -9 during the run of dispatch --rent: status shows the instance running, down --all destroys it", async () => {
    vast.script = { loadingPolls: 0, ssh: vast.script.ssh };
    const e = cloudEnv({ sshKeyFile: sshd.keyFile, standins: [vast] });
    const run = spawnCli(
      ["dispatch", "--gguf", gguf, "--engine", "llama.cpp", "--context", "65536", "--tokens", "60000", "--rent", "--yes", "--ssh-user", sshd.user, "--remote-hwledger", ROOT],
      e.env,
    );
    await until(async () => Number((await queryLedger(e.ledger, "SELECT count(*) AS n FROM events WHERE type = 'job_started'").catch(() => [{ n: 0 }]))[0].n) > 0, 240_000, "job_started");
    run.child.kill("SIGKILL");
    await run.exited;
    const inst = vast.instances.at(-1)!;
    expect(inst.state).toBe("running");
    const s1 = await status(e.env);
    expect(s1.rentals).toHaveLength(1);
    expect(s1.rentals[0]).toMatchObject({ instanceId: inst.id, state: "running", ssh: { host: "127.0.0.1", port: sshd.port } });
    const down = await runCliAsync(["cloud", "down", "--all", "--json"], e.env);
    expect(JSON.parse(down.stdout).outcomes).toMatchObject([{ instanceId: inst.id, result: "stopped" }]);
    expect(inst.state).toBe("destroyed");
    // On a real cloud destroying the instance ends the engine; here the "instance" is this machine.
    killProcessesMentioning(ggufDir);
    const costs = await queryLedger(e.ledger, "SELECT host, payload->>'basis' AS basis FROM events WHERE type = 'cost_recorded'");
    expect(costs).toEqual([{ host: `vastai-${inst.id}`, basis: `vastai charges instance-${inst.id}` }]);
  }, 360_000);

  it("killed between the intent and create: status says no instance carries the tag; down --all closes it", async () => {
    const e = cloudEnv({ sshKeyFile: sshd.keyFile, standins: [vast] });
    const intentId = ulid();
    const payload = { intentId, provider: "vastai", offerId: "11684738", label: labelFor(intentId), perHour: 0.25, deadline: new Date(Date.now() + 3_600_000).toISOString(), limitUsd: 0.25 };
    await appendEvents(e.ledger, [makeEvent("instance_requested", payload, { host: "desk" })]);
    // Without the provider's key, the ledger's view: requested, not known to be gone.
    const offline = await status({ ...e.env, VAST_API_KEY: "" });
    expect(offline.rentals[0]).toMatchObject({ intentId, state: "requested" });
    expect((await status(e.env)).rentals[0]).toMatchObject({ intentId, state: "gone" });
    const down = await runCliAsync(["cloud", "down", "--all", "--json"], e.env);
    expect(JSON.parse(down.stdout).outcomes).toMatchObject([{ intentId, result: "closed", detail: "no instance was created" }]);
    expect((await status(e.env)).rentals[0]).toMatchObject({ intentId, state: "failed" });
    expect((await runCliAsync(["cloud", "down", "--all"], e.env)).stdout).toBe("nothing to stop\n");
  }, 150_000);
  it("status --enforce stops an instance past its deadline (the cron guard for `cloud up`)", async () => {
    const e = cloudEnv({ sshKeyFile: sshd.keyFile, standins: [vast] });
    const intentId = ulid();
    const label = labelFor(intentId);
    const ts = new Date(Date.now() - 2 * 3_600_000);
    const payload = { intentId, provider: "vastai", offerId: "11684738", label, perHour: 0.25, deadline: new Date(Date.now() - 60_000).toISOString(), limitUsd: 0.5 };
    await appendEvents(e.ledger, [makeEvent("instance_requested", payload, { host: "desk", ts })]);
    vast.instances.push({ id: "36799999", label, offerId: "11684738", state: "running", polls: 9, createdAt: ts.getTime(), request: {} });
    const plain = await status(e.env);
    expect(plain.rentals[0]).toMatchObject({ instanceId: "36799999", state: "running" });
    const r = await runCliAsync(["cloud", "status", "--enforce", "--json"], e.env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).enforced).toMatchObject([{ instanceId: "36799999", result: "stopped" }]);
    expect(vast.instances.at(-1)!.state).toBe("destroyed");
    const ev = await queryLedger(e.ledger, "SELECT payload->>'reason' AS reason FROM events WHERE type = 'instance_stopped'");
    expect(String(ev[0].reason)).toMatch(/^deadline .* reached$/);
  }, 150_000);
});
