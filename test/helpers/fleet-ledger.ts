// A small fleet ledger for the site tests, written with the project's real writers (makeEvent + appendEvents) in
// the shapes the collector writes (collector/run/probe-host.ts, collector/run/launcher.ts): two hosts, three
// devices, two days of telemetry, probe failures, planned + completed/failed jobs, price quotes and a recorded
// cost; plus this machine as `hwledger collect` records it. Written once into a fixed folder; rewritten only when
// this file changes (so the site is not rebuilt).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeDeployment, plan, speed } from "../../lib/calc/index.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { findDevice } from "../../lib/fleet/devices.js";
import { makeEvent } from "../../lib/fleet/events.js";
import type { Event } from "../../lib/fleet/events.js";
import { appendEvents } from "../../lib/ledger/index.js";
import { planJson } from "../../lib/calc/index.js";
import { resolveModel } from "../../loaders/models.js";
import { runCli } from "./cli.js";
import { engine } from "../../plugins/engines.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Fixed folder (git-ignored .hwledger/): the site tests build with HWLEDGER_LEDGER pointing here. */
export const TEST_LEDGER = join(ROOT, ".hwledger", "site-test-ledger");
const STAMP = join(ROOT, ".hwledger", "site-test-ledger.version");
const GIB = 1024 ** 3;

export const TEST_DEVICES = [
  { host: "a100box", device_id: "GPU-a100-0", name: "NVIDIA A100-SXM4-80GB", memoryBytes: 80 * GIB, catalogId: "a100-sxm4-80gb" },
  { host: "desk", device_id: "GPU-4090-0", name: "NVIDIA GeForce RTX 4090", memoryBytes: 24 * GIB, catalogId: "rtx-4090" },
  { host: "desk", device_id: "GPU-l40s-1", name: "NVIDIA L40S", memoryBytes: 48 * GIB, catalogId: "l40s" },
];

const START = Date.parse("2026-11-20T00:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

async function events(): Promise<Event[]> {
  const out: Event[] = [];
  for (const host of ["a100box", "desk"]) {
    out.push(makeEvent("device_registered", { name: "AMD EPYC 7763", kind: "cpu", memoryBytes: 256 * GIB, transport: host === "desk" ? "local" : `ssh://${host}` }, { host, device_id: `${host}/cpu`, ts: iso(START) }));
  }
  for (const d of TEST_DEVICES) {
    out.push(makeEvent("device_registered", { name: d.name, kind: "gpu", vendor: "nvidia", memoryBytes: d.memoryBytes, transport: d.host === "desk" ? "local" : `ssh://${d.host}`, spec: { driver: "550.54.15" } }, { host: d.host, device_id: d.device_id, ts: iso(START) }));
  }
  // Telemetry every 30 min for two days; utilization follows a day/night cycle, memory follows utilization.
  for (let i = 0; i < 96; i++) {
    const ts = START + i * 30 * 60_000;
    for (const [k, d] of TEST_DEVICES.entries()) {
      const util = Math.round(50 + 45 * Math.sin((i + k * 7) / 8));
      out.push(makeEvent("telemetry_sample", { memoryTotalBytes: d.memoryBytes, memoryUsedBytes: Math.round(d.memoryBytes * (0.2 + (0.7 * util) / 100)), utilizationPct: util, powerW: 80 + 3 * util, temperatureC: 40 + util / 3 }, { host: d.host, device_id: d.device_id, ts: iso(ts) }));
    }
    if (i % 12 === 0) for (const host of ["a100box", "desk"]) out.push(makeEvent("device_probed", { probe: "linux,nvidia-smi", hostRamBytes: 256 * GIB, cpuCount: 64, devices: [] }, { host, ts: iso(ts) }));
  }
  out.push(makeEvent("probe_failed", { probe: "nvidia-smi", reason: "nvidia-smi timed out after 10 s", target: "ssh://a100box" }, { host: "a100box", ts: iso(START + 30 * 3600_000) }));
  out.push(makeEvent("probe_failed", { probe: "ssh", reason: "connect ECONNREFUSED 10.0.0.7:22", target: "ssh://a100box", code: "refused" }, { host: "a100box", ts: iso(START + 31 * 3600_000) }));

  // Jobs: the plan is the real lib/calc plan; actuals differ from it by a few percent, as a real engine's do.
  const jobs = [
    { id: "job-llama8b-a100", model: "meta-llama/Llama-3.1-8B-Instruct", engine: "vllm", dev: 0, ctx: 8192, seqs: 4, weights: undefined, at: 3, dur: 5400, gen: 4_000_000, err: [1.01, 0.97, 0.92] },
    { id: "job-qwen7b-4090", model: "Qwen/Qwen2.5-7B-Instruct", engine: "llama.cpp", dev: 1, ctx: 4096, seqs: 1, weights: "Q4_K_M", at: 10, dur: 3600, gen: 300_000, err: [1.02, 1.0, 1.08] },
    { id: "job-qwen7b-l40s", model: "Qwen/Qwen2.5-7B-Instruct", engine: "llama.cpp", dev: 2, ctx: 8192, seqs: 1, weights: "Q8_0", at: 28, dur: 1800, gen: 120_000, err: [0.99, 1.03, 0.95] },
    { id: "job-llama70b-a100", model: "meta-llama/Llama-3.1-70B-Instruct", engine: "vllm", dev: 0, ctx: 4096, seqs: 1, weights: undefined, at: 40, dur: 60, gen: 0, err: null },
  ];
  for (const j of jobs) {
    const d = TEST_DEVICES[j.dev];
    const model = (await resolveModel(j.model, { offline: true })).model;
    const dep = makeDeployment(model, { engine: engine(j.engine), weights: j.weights, context: j.ctx, seqs: j.seqs });
    const p = planJson(plan(model, dep, engine(dep.engine)));
    const deployment = { engine: dep.engine, weights: dep.weights, kvDtypeK: dep.kvDtypeK, kvDtypeV: dep.kvDtypeV, context: dep.context, seqs: dep.seqs, tp: dep.tp, pp: dep.pp };
    const at = { host: d.host, device_id: d.device_id };
    const t0 = START + j.at * 3600_000;
    out.push(makeEvent("job_planned", { jobId: j.id, engine: j.engine, model: model.id, modelRef: j.model, deployment, plan: p as never, request: { prompt: 512, gen: 128 } }, { ...at, ts: iso(t0) }));
    out.push(makeEvent("job_started", { jobId: j.id, engine: j.engine, command: [j.engine === "vllm" ? "vllm" : "llama-server"] }, { ...at, ts: iso(t0 + 1000) }));
    if (!j.err) {
      out.push(makeEvent("job_failed", { jobId: j.id, reason: "CUDA out of memory: tried to allocate 1.96 GiB", exitCode: 1 }, { ...at, ts: iso(t0 + j.dur * 1000) }));
      continue;
    }
    const s = speed(model, dep, engine(dep.engine), placementDevice(findDevice(d.catalogId)), { prompt: 512, gen: 128, seqs: dep.seqs });
    const actual = {
      weightsBytes: Math.round(p.memory.weightsBytes * j.err[0]),
      kvCacheBytes: Math.round(p.memory.kvCacheBytes * j.err[1]),
      computeBytes: Math.round(p.memory.activationBytes),
      promptTokensPerSecond: Math.round((s.prefillTokensPerSecond ?? 1000) * 0.9 * 10) / 10,
      decodeTokensPerSecond: Math.round((s.decodeTokensPerSecond ?? 10) * j.err[2] * 10) / 10,
    };
    out.push(makeEvent("job_completed", { jobId: j.id, actual, durationS: j.dur, generatedTokens: j.gen } as never, { ...at, ts: iso(t0 + j.dur * 1000) }));
  }
  // Cloud price quoted for the A100 (prices --record shape) and a cost recorded by hand.
  out.push(makeEvent("price_quoted", { device: "a100-sxm4-80gb", source: "lambda:snapshot", pricePerHour: 1.29, currency: "USD", spot: false }, { host: "a100box", ts: iso(START) }));
  out.push(makeEvent("cost_recorded", { amount: 2.5, currency: "USD", basis: "egress invoice" }, { host: "desk", device_id: "GPU-4090-0", ts: iso(START + 30 * 3600_000) }));
  return out;
}

/** Writes the test ledger unless the one on disk was written by this version of this file. */
export async function ensureTestLedger(): Promise<string> {
  const version = createHash("sha256").update(readFileSync(fileURLToPath(import.meta.url))).digest("hex");
  const fresh = () => existsSync(STAMP) && readFileSync(STAMP, "utf8") === version && existsSync(TEST_LEDGER);
  if (fresh()) return TEST_LEDGER;
  // Test files run in parallel: one writes, the others wait for it (a lock folder; a stale one is taken over).
  const lock = `${TEST_LEDGER}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs! > 300_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (!fresh()) await writeTestLedger(version);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return TEST_LEDGER;
}

async function writeTestLedger(version: string): Promise<void> {
  rmSync(TEST_LEDGER, { recursive: true, force: true });
  mkdirSync(TEST_LEDGER, { recursive: true });
  await appendEvents(TEST_LEDGER, await events());
  // Plus this machine, probed twice by the real collector (device_registered, device_probed, telemetry_sample).
  for (let i = 0; i < 2; i++) {
    const r = runCli(["collect", "--ledger", TEST_LEDGER]);
    if (r.code !== 0) throw new Error(`hwledger collect failed (${r.code}): ${r.stderr}`);
  }
  writeFileSync(STAMP, version);
}
