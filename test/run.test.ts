// `hwledger run` with a real engine: llama.cpp (node-llama-cpp's prebuilt CPU build, the embedded engine) on a
// GGUF this test writes. Prediction and actual go into the ledger side by side. vLLM and MLX cannot run here:
// their runs fail cleanly (engine not installed) and are recorded as such.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryLedger } from "../lib/ledger/index.js";
import { engineError } from "../collector/run/launcher.js";
import { tinyModel, writeGguf } from "./helpers/gguf-writer.js";
import { ROOT, runCli } from "./helpers/cli.js";
import { tempLedger } from "./helpers/ledger.js";
import { freePort, startSshd } from "./helpers/sshd.js";
import type { Sshd } from "./helpers/sshd.js";

let dir: string;
let gguf: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hwledger-run-"));
  gguf = join(dir, "tiny-llama.gguf");
  // 4 layers, n_embd 256, 4 heads / 2 KV heads of 64: ~10 MB of f32 weights (MiB-rounded log figures stay well
  // inside 1%), head size a multiple of 32 so q8_0 KV is allowed.
  const m = tinyModel({ arch: "llama", nLayer: 4, nEmbd: 256, nHead: 4, nHeadKv: 2 });
  writeGguf(gguf, m.metadata, m.tensors);
});

/** queryLedger returns the JSON payload parsed; older rows may come back as text. */
const obj = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);

const events = (ledger: string) =>
  queryLedger(ledger, "SELECT type, payload->>'jobId' AS job, payload FROM events WHERE type LIKE 'job_%' ORDER BY id");

describe("hwledger run --engine llama.cpp (embedded llama.cpp)", () => {
  it.each([
    { context: "2048", seqs: "1", kv: "f16" },
    // 2 × 2048 cells of q8_0 (34 bytes per 32 values) = 4.25 MiB: llama.cpp prints KV sizes in MiB with two
    // decimals, so the byte-exact comparison needs a size that print does not round.
    { context: "2048", seqs: "2", kv: "q8_0" },
  ])("context $context × $seqs seqs, KV $kv: KV actual == predicted to the byte, weights within 1%", async ({ context, seqs, kv }) => {
    const ledger = tempLedger();
    const r = runCli(["run", "--engine", "llama.cpp", "--gguf", gguf, "--context", context, "--seqs", seqs, "--kv-dtype", kv, "--prompt-tokens", "24", "--gen", "8", "--ledger", ledger, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(["jobId", "status", "predicted", "actual"]);
    expect(j.status).toBe("completed");
    expect(j.actual.kvCacheBytes).toBe(j.predicted.memory.kvCacheBytes);
    expect(Math.abs(j.actual.weightsBytes / j.predicted.memory.weightsBytes - 1)).toBeLessThan(0.01);
    expect(j.actual.computeBytes).toBeGreaterThan(0);
    expect(j.actual.promptTokensPerSecond).toBeGreaterThan(0);
    expect(j.actual.decodeTokensPerSecond).toBeGreaterThan(0);
    // The same job in the ledger: planned (with the prediction), started (the argv), completed (the actuals).
    const rows = await events(ledger);
    expect(rows.map((x) => x.type)).toEqual(["job_planned", "job_started", "job_completed"]);
    expect(new Set(rows.map((x) => x.job))).toEqual(new Set([j.jobId]));
    const planned = obj(rows[0].payload);
    expect(planned.plan.memory).toEqual(j.predicted.memory);
    expect(planned.deployment).toMatchObject({ engine: "llama.cpp", context: Number(context), seqs: Number(seqs), kvDtypeK: kv });
    const started = obj(rows[1].payload);
    expect(started.command[1]).toMatch(/llama-embedded\.mjs$/);
    expect(JSON.parse(started.command[2])).toMatchObject({ model: gguf, sequences: Number(seqs), kvTypeK: kv });
    expect(obj(rows[2].payload).actual).toEqual(j.actual);
    // Telemetry was sampled while it ran, tagged with the job.
    const tel = await queryLedger(ledger, `SELECT count(*) AS n FROM events WHERE type = 'telemetry_sample' AND (payload->>'jobId') = '${j.jobId}'`);
    expect(Number(tel[0].n)).toBeGreaterThanOrEqual(1);
  });

  it("an engine that cannot load the model records job_failed with llama.cpp's reason (exit 1)", async () => {
    // A well-formed GGUF the planner reads, missing a tensor llama.cpp requires (output_norm): llama.cpp refuses it.
    const m = tinyModel({ arch: "llama", nLayer: 4, nEmbd: 256, nHead: 4, nHeadKv: 2 });
    const bad = join(dir, "no-output-norm.gguf");
    writeGguf(bad, m.metadata, m.tensors.filter((t) => t.name !== "output_norm.weight"));
    const ledger = tempLedger();
    const r = runCli(["run", "--engine", "llama.cpp", "--gguf", bad, "--context", "512", "--gen", "4", "--ledger", ledger, "--json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.status).toBe("failed");
    // llama.cpp words it "missing tensor 'X'" or "check_tensor_dims: tensor 'X' not found" depending on the build.
    expect(j.reason).toMatch(/^Failed to load model \(llama_model_load: error loading model: (missing tensor 'output_norm\.weight'|check_tensor_dims: tensor 'output_norm\.weight' not found)\)$/);
    expect(r.stderr.trim().split("\n").at(-1)).toBe(`hwledger: job ${j.jobId} failed: ${j.reason}`);
    const rows = await events(ledger);
    expect(rows.map((x) => x.type)).toEqual(["job_planned", "job_started", "job_failed"]);
    expect(obj(rows[2].payload).reason).toBe(j.reason);
  });

  it("a GGUF whose tensor data is cut off is refused before any engine starts (exit 2, nothing recorded)", async () => {
    // llama-model-loader.cpp would refuse it too ("tensor data is not within the file bounds"); the planner sees it first.
    const bad = join(dir, "truncated.gguf");
    writeFileSync(bad, readFileSync(gguf));
    truncateSync(bad, Math.floor(statSync(bad).size / 2));
    const ledger = tempLedger();
    const r = runCli(["run", "--engine", "llama.cpp", "--gguf", bad, "--context", "512", "--gen", "4", "--ledger", ledger, "--json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/truncated GGUF: the data of tensor .* ends at byte .* but the file has .* bytes$/)]);
  });

  it("a model file that does not exist is bad input: exit 2, one line", () => {
    const r = runCli(["run", "--engine", "llama.cpp", "--gguf", join(dir, "nope.gguf"), "--ledger", tempLedger()]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("SIGINT mid-run stops the engine cleanly and still records the outcome", async () => {
    const ledger = tempLedger();
    // A long generation (64k context) that the signal interrupts.
    const child = spawn(
      process.execPath,
      [join(ROOT, "bin/hwledger.js"), "run", "--engine", "llama.cpp", "--gguf", gguf, "--context", "65536", "--prompt-tokens", "16", "--gen", "60000", "--ledger", ledger, "--json"],
      { env: { ...process.env, HWLEDGER_OFFLINE: "1" } },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b));
    child.stderr.on("data", (b: Buffer) => (err += b));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    // Interrupt once the engine has started generating (its job_started event is in the ledger, then a moment).
    const end = Date.now() + 60_000;
    for (;;) {
      const started = await queryLedger(ledger, "SELECT count(*) AS n FROM events WHERE type = 'job_started'").catch(() => [{ n: 0 }]);
      if (Number(started[0].n) > 0) break;
      if (Date.now() > end) throw new Error(`engine never started: ${err}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Model load + context creation take well under a second on an idle 2-core machine; leave room for a busy one.
    await new Promise((r) => setTimeout(r, 4000));
    child.kill("SIGINT");
    expect(await exited).toBe(1);
    const j = JSON.parse(out);
    expect(j.status).toBe("interrupted");
    expect(j.reason).toBe("interrupted by SIGINT");
    // The engine had allocated its KV cache before the signal: that actual is kept.
    expect(j.actual.kvCacheBytes).toBe(j.predicted.memory.kvCacheBytes);
    const rows = await events(ledger);
    expect(rows.map((x) => x.type)).toEqual(["job_planned", "job_started", "job_failed"]);
    expect(obj(rows[2].payload)).toMatchObject({ jobId: j.jobId, reason: "interrupted by SIGINT" });
  });
});

describe("hwledger run --host ssh://… (real sshd on 127.0.0.1)", () => {
  let sshd: Sshd;
  let env: Record<string, string>;
  beforeAll(async () => {
    sshd = await startSshd();
    writeFileSync(sshd.knownHostsFile, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    env = { HWLEDGER_SSH_KEY: sshd.keyFile, HWLEDGER_KNOWN_HOSTS: sshd.knownHostsFile };
  });
  afterAll(async () => sshd?.stop());

  it("with no llama-server there, says so (exit 2) and records the planned job as failed", async () => {
    const ledger = tempLedger();
    const r = runCli(["run", "--engine", "llama.cpp", "--gguf", gguf, "--context", "512", "--host", sshd.url, "--ledger", ledger], { env });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`hwledger: no llama-server on ${sshd.url}: pass --binary PATH`);
    expect((await events(ledger)).map((x) => x.type)).toEqual(["job_planned", "job_failed"]);
  });

  it("a host that refuses the connection: job_failed with the transport's reason, exit 2", async () => {
    const ledger = tempLedger();
    const url = `ssh://nobody@127.0.0.1:${await freePort()}`;
    const r = runCli(["run", "--engine", "llama.cpp", "--gguf", gguf, "--context", "512", "--host", url, "--ledger", ledger, "--json"], { env });
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout);
    expect(j.status).toBe("failed");
    expect(j.reason).toMatch(/ECONNREFUSED|refused/i);
    expect((await events(ledger)).map((x) => x.type)).toEqual(["job_planned", "job_failed"]);
  });

  it("a --llama-server path that does not exist there is the remote shell's 127: job_failed, exit 1", async () => {
    const ledger = tempLedger();
    const missing = join(dir, "no-such-llama-server");
    const r = runCli(["run", "--engine", "llama.cpp", "--gguf", gguf, "--context", "512", "--host", sshd.url, "--llama-server", missing, "--ledger", ledger, "--json"], { env });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "failed", reason: `command not found: ${missing}` });
    const rows = await events(ledger);
    expect(rows.map((x) => x.type)).toEqual(["job_planned", "job_started", "job_failed"]);
    expect((obj(rows[1].payload) as { command: string[] }).command.slice(0, 3)).toEqual([missing, "-m", gguf]);
  });
});

describe("hwledger run --engine vllm|mlx (cannot run here)", () => {
  it("vLLM: the plan is recorded, `vllm` is not installed, and that is the recorded failure", async () => {
    const ledger = tempLedger();
    const r = runCli(["run", "--engine", "vllm", "--model", "Qwen/Qwen2.5-7B-Instruct", "--context", "4096", "--ledger", ledger, "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ status: "failed", reason: "command not found: vllm" });
    const rows = await events(ledger);
    expect(rows.map((x) => x.type)).toEqual(["job_planned", "job_failed"]);
    expect(obj(rows[0].payload).plan.memory.kvCacheBytes).toBe(j.predicted.memory.kvCacheBytes);
  });

  it("MLX: runs mlx_lm.generate built by the MLX plugin; not installed here, that is the recorded failure", async () => {
    const ledger = tempLedger();
    const r = runCli(["run", "--engine", "mlx", "--model", "Qwen/Qwen3-8B", "--context", "1024", "--prompt", "Hello", "--gen", "8", "--ledger", ledger, "--json"]);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "failed", reason: "command not found: mlx_lm.generate" });
    expect((await events(ledger)).map((x) => x.type)).toEqual(["job_planned", "job_failed"]);
  });

  it("engine errors are found in the engine's own words", () => {
    expect(engineError("load_tensors: x\nhwledger_embedded: error: Failed to create context (llama_init_from_model: boom)\n")).toBe(
      "Failed to create context (llama_init_from_model: boom)",
    );
    expect(engineError("INFO x\nTraceback (most recent call last):\n  File ...\nValueError: max_model_len too large\n")).toBe("ValueError: max_model_len too large");
  });
});
