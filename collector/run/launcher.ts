// The `hwledger run` launcher: plan, record the prediction, start the engine with argument arrays built from
// the plan, sample telemetry while it runs, parse the engine's own log into actuals, record the outcome.
import { access, constants } from "node:fs/promises";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import { delimiter, join } from "node:path";
import { InputError, plan } from "../../lib/calc/index.js";
import type { Deployment, ModelSpec } from "../../lib/calc/index.js";
import { makeEvent } from "../../lib/fleet/events.js";
import type { Event, HostFailureCode } from "../../lib/fleet/events.js";
import { HostUnreachable } from "../errors.js";
import { ulid } from "../../lib/fleet/ulid.js";
import { appendEvents } from "../../lib/ledger/index.js";
import type { Transport } from "../transport/index.js";
import { planJson } from "../../lib/calc/index.js";
import { progress } from "../../lib/terminal.js";
import type { Actual, EnginePlugin, LaunchInputs, LaunchSpec } from "../../plugins/engine-contract.js";
import { ENGINES } from "../../plugins/engines.js";
import { PLUGINS_DIR } from "../../plugins/index.js";
import { rememberRegistrations } from "./host.js";
import { probeEvents, probeHost, hostDeviceId } from "./probe-host.js";
import type { KnownDevice } from "./probe-host.js";

export type { Actual } from "../../plugins/engine-contract.js";

/** An engine `hwledger run` can start: one whose plugin says how (launch). */
export type RunEngine = EnginePlugin & { launch: LaunchSpec };

export interface RunSpec {
  engine: RunEngine;
  model: ModelSpec;
  /** What the engine loads: a GGUF path or an HF id / folder (the engine's launch.modelFile). */
  modelRef: string;
  dep: Deployment;
  prompt?: string;
  promptTokens?: number;
  gen: number;
  /** The engine's executable (default: launch.binary on the host's PATH). */
  binary?: string;
  /**
   * Where hwledger is installed on a remote host without the engine's binary: its engine plugin's embedded runner
   * runs there as `node DIR/plugins/<engine>/<script>` (local runs use this checkout's).
   */
  remoteInstall?: { node: string; dir: string };
  host: string;
  transport: Transport;
  ledger: string;
  /** Telemetry sampling period while the engine runs. */
  sampleMs: number;
  known: Map<string, KnownDevice>;
}

export interface RunResult {
  jobId: string;
  status: "completed" | "failed" | "interrupted";
  predicted: ReturnType<typeof planJson>;
  actual: Actual;
  reason?: string;
  command: string[];
  durationS: number;
  telemetrySamples: number;
  /** Set when the host could not be reached at all (the CLI exits 2 then, as for any unreachable target). */
  unreachable?: HostFailureCode;
}

/** How the engine is started: a one-shot process that exits by itself, or a server we query, then stop. */
interface Launch {
  argv: string[];
  mode: "oneshot" | "server";
  port?: number;
  parse: (log: string) => Actual;
}

const runnable = (engines: readonly EnginePlugin[]) => engines.filter((e): e is RunEngine => e.launch !== undefined);

/** --engine for run: an engine whose plugin can launch it. */
export function parseRunEngine(s: string, engines: readonly EnginePlugin[] = ENGINES): RunEngine {
  const k = s.trim().toLowerCase();
  const e = runnable(engines).find((x) => x.id === k || x.aliases.includes(k));
  if (!e) throw new InputError(`--engine must be ${runnable(engines).map((x) => x.id).join(", ")} for run, got "${s}"`);
  return e;
}

/** Finds an executable on this machine's PATH, or on the remote host's through its shell. */
export async function findExecutable(t: Transport, name: string): Promise<string | undefined> {
  if (t.target === "local") {
    for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
      const p = join(dir, name);
      if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
    }
    return undefined;
  }
  // A host that cannot be reached throws here: that is the job's failure, not "not installed".
  // `command` is a shell builtin: it needs a shell (the transport execs argv[0], which a builtin is not); a
  // loaded host can take seconds to start one.
  const r = await t.exec(["sh", "-c", 'command -v "$1"', "sh", name], { timeoutMs: 30_000 });
  return r.code === 0 && r.stdout.trim() ? r.stdout.trim().split("\n")[0] : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A free port here; on a remote host a random high port (its sshd cannot tell us a free one). */
async function enginePort(t: Transport): Promise<number> {
  return t.target === "local" ? freePort() : 20000 + Math.floor(Math.random() * 40000);
}

/** Integer bytes and finite rates only: what the job_completed schema accepts. */
export function cleanActual(a: Record<string, unknown>): Actual {
  const out: Actual = {};
  const bytes = (v: unknown) => {
    if (typeof v === "number" && Number.isFinite(v)) return Math.round(v);
    // A per-buffer breakdown ({CPU_Mapped: n, CUDA0: m}) counts as its sum.
    if (v && typeof v === "object") {
      const vals = Object.values(v as Record<string, unknown>).filter((x): x is number => typeof x === "number");
      return vals.length ? Math.round(vals.reduce((s, x) => s + x, 0)) : undefined;
    }
    return undefined;
  };
  const rate = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const w = bytes(a.weightsBytes);
  const kv = bytes(a.kvCacheBytes);
  const c = bytes(a.computeBytes);
  const p = rate(a.promptTokensPerSecond);
  const d = rate(a.decodeTokensPerSecond);
  if (w !== undefined) out.weightsBytes = w;
  if (kv !== undefined) out.kvCacheBytes = kv;
  if (c !== undefined) out.computeBytes = c;
  if (p !== undefined) out.promptTokensPerSecond = p;
  if (d !== undefined) out.decodeTokensPerSecond = d;
  return out;
}

/** The command for this run, built by the engine plugin from the plan (argument arrays only; no shell here). */
export async function buildLaunch(spec: RunSpec): Promise<Launch> {
  const l = spec.engine.launch;
  const parse = (log: string) => cleanActual(l.actuals(log));
  const inputs = (port: number): LaunchInputs => ({
    modelRef: spec.modelRef,
    model: spec.model,
    dep: spec.dep,
    listen: "127.0.0.1",
    port,
    prompt: spec.prompt,
    promptTokens: spec.promptTokens,
    gen: spec.gen,
    // One core stays with the launcher (telemetry, log): llama.cpp's spinning threads starve otherwise
    // (measured on 2 cores: 176 ms per decoded token with 2 threads, 0.6 ms with 1).
    threads: Math.max(1, availableParallelism() - 1),
  });
  // An engine with an embedded runner is looked for first, so a host without its binary can still run it here.
  const binary = spec.binary ?? (l.embedded ? await findExecutable(spec.transport, l.binary) : undefined);
  if (l.embedded && !binary) {
    const remote = spec.transport.target !== "local";
    if (remote && !spec.remoteInstall) throw new InputError(`no ${l.binary} on ${spec.transport.target}: pass --binary PATH`);
    // The embedded runner: a Node script of the plugin folder, in a child process (here, or in the host's install).
    const runner = remote
      ? [spec.remoteInstall!.node, `${spec.remoteInstall!.dir.replace(/\/+$/, "")}/plugins/${spec.engine.name}/${l.embedded.script}`]
      : [process.execPath, join(PLUGINS_DIR, spec.engine.name, l.embedded.script)];
    return { argv: [...runner, ...l.embedded.args(inputs(0))], mode: "oneshot", parse };
  }
  const port = l.mode === "server" ? await enginePort(spec.transport) : 0;
  return { argv: [binary ?? l.binary, ...withoutBinary(l.args(inputs(port)), l.binary)], mode: l.mode, ...(l.mode === "server" ? { port } : {}), parse };
}

function withoutBinary(args: string[], bin: string): string[] {
  return args[0] === bin || args[0]?.endsWith("/" + bin) ? args.slice(1) : args;
}

/**
 * HTTP to the engine's server: fetch when it runs here; on a remote host, curl through the same transport (the
 * server listens on the remote 127.0.0.1 only). Resolves ok=false on any failure.
 */
async function http(t: Transport, url: string, body?: unknown, signal?: AbortSignal): Promise<boolean> {
  if (t.target === "local") {
    const init: RequestInit = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
    return fetch(url, { ...init, signal: signal ?? AbortSignal.timeout(2000) }).then(
      async (r) => (await r.text(), r.ok),
      () => false,
    );
  }
  const argv = ["curl", "-sf", "--max-time", body === undefined ? "2" : "3600", url];
  if (body !== undefined) argv.push("-H", "content-type: application/json", "--data-binary", "@-");
  const r = await t.exec(argv, { timeoutMs: body === undefined ? 5000 : 3_600_000, input: body === undefined ? undefined : JSON.stringify(body) }).catch(() => undefined);
  return r?.code === 0;
}

/** Server engines: wait for health, send one completion, and let the engine's own log carry the figures. */
async function driveServer(spec: RunSpec, port: number, exited: Promise<unknown>, stop: AbortSignal): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error("engine exited before it was ready");
    if (stop.aborted) return;
    if (await http(spec.transport, `${base}/health`)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const req = spec.engine.launch.request?.({ modelRef: spec.modelRef, model: spec.model, dep: spec.dep, listen: "127.0.0.1", port, prompt: spec.prompt, promptTokens: spec.promptTokens, gen: spec.gen, threads: 1 });
  if (!req) return;
  if (!(await http(spec.transport, base + req.path, req.json, stop)) && !stop.aborted) throw new Error(`${req.path} request failed`);
}

const MAX_LOG = 16 * 1024 * 1024;

/**
 * Runs one job. SIGINT/SIGTERM to this process stop the engine with SIGINT (its clean shutdown) and the outcome is
 * still recorded. Ledger writes: job_planned, job_started, telemetry samples, then job_completed or job_failed.
 */
/** The device a run lands on: the host's first GPU, else the host itself (CPU). */
function runDevice(spec: RunSpec): { device_id?: string } {
  const devices = [...spec.known.values()];
  const gpu = devices.find((d) => d.device_id !== hostDeviceId(spec.host));
  const pick = gpu ?? devices[0];
  return pick ? { device_id: pick.device_id } : {};
}

export async function runJob(spec: RunSpec): Promise<RunResult> {
  const jobId = ulid();
  const predicted = planJson(plan(spec.model, spec.dep, spec.engine));
  const at = { host: spec.host };
  const d = spec.dep;
  const deployment = { engine: d.engine, weights: d.weights, kvDtypeK: d.kvDtypeK, kvDtypeV: d.kvDtypeV, context: d.context, seqs: d.seqs, tp: d.tp, pp: d.pp };
  await appendEvents(spec.ledger, [
    // The request and the device let recorded speeds calibrate the speed model (loaders/runs.ts).
    makeEvent("job_planned", { jobId, engine: spec.engine.id, model: spec.model.id, modelRef: spec.modelRef, deployment, plan: predicted as never, request: { prompt: spec.promptTokens ?? 0, gen: spec.gen } }, { ...at, ...runDevice(spec) }),
  ]);
  const started = Date.now();
  const fail = async (reason: string, extra: Record<string, unknown> = {}, status: RunResult["status"] = "failed", command: string[] = []): Promise<RunResult> => {
    await appendEvents(spec.ledger, [makeEvent("job_failed", { jobId, reason, ...extra }, at)]);
    return { jobId, status, predicted, actual: (extra.actual as Actual) ?? {}, reason, command, durationS: (Date.now() - started) / 1000, telemetrySamples: 0 };
  };

  let launch: Launch;
  try {
    launch = await buildLaunch(spec);
  } catch (e) {
    if (e instanceof InputError) {
      await fail((e as Error).message);
      throw e;
    }
    const r = await fail((e as Error).message.split("\n")[0]);
    return e instanceof HostUnreachable ? { ...r, unreachable: e.code } : r;
  }

  // The head of the log holds the load-time memory lines, the tail the timings: keep both when it is long.
  // stdout and stderr arrive in chunks that need not end at a line: each stream is joined into whole lines first, so
  // one stream's chunk never lands inside the other's line (a busy machine split a KV line that way).
  let head = "";
  let tail = "";
  const keep = (s: string) => {
    if (head.length < MAX_LOG) head += s;
    else {
      tail += s;
      if (tail.length > MAX_LOG / 4) tail = tail.slice(-MAX_LOG / 8);
    }
  };
  const partial = { out: "", err: "" };
  const lineJoiner = (stream: "out" | "err") => (b: Buffer) => {
    const s = partial[stream] + b.toString("utf8");
    const end = s.lastIndexOf("\n") + 1;
    if (end > 0) keep(s.slice(0, end));
    partial[stream] = s.slice(end);
  };
  const flushPartialLines = () => {
    for (const k of ["out", "err"] as const) if (partial[k]) keep(partial[k] + "\n");
    partial.out = partial.err = "";
  };
  let interrupted: string | undefined;
  const stopCtl = new AbortController();
  let running: Awaited<ReturnType<Transport["spawn"]>>;
  // An engine that is not installed never started: say so before spawning (a local spawn reports ENOENT late).
  const bin = launch.argv[0];
  if (!bin.includes("/") && !(await findExecutable(spec.transport, bin))) return fail(`command not found: ${bin}`, {}, "failed", launch.argv);
  try {
    running = await spec.transport.spawn(launch.argv, { onStdout: lineJoiner("out"), onStderr: lineJoiner("err") });
  } catch (e) {
    return fail((e as Error).message.split("\n")[0], {}, "failed", launch.argv);
  }
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = sig;
    progress(`run: ${sig}: stopping the engine`);
    stopCtl.abort();
    running.kill("INT");
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  // A failed spawn surfaces through `done` (local ENOENT): keep it as the outcome, not an unhandled rejection.
  const done = running.done.then(
    (r) => ({ ...r, error: undefined as string | undefined }),
    (e: Error) => ({ code: null, signal: null, error: e.message.split("\n")[0] }),
  );
  await appendEvents(spec.ledger, [makeEvent("job_started", { jobId, engine: spec.engine.id, command: launch.argv }, at)]);

  // Telemetry while it runs: one sample now, then every sampleMs until the engine exits.
  let samples = 0;
  let finished = false;
  const sampler = (async () => {
    while (!finished) {
      try {
        const p = await probeHost(spec.transport, { host: spec.host, target: spec.transport.target });
        const evs = probeEvents(p, spec.known, { telemetry: true, jobId }).filter((e) => e.type === "telemetry_sample" || e.type === "device_registered");
        if (evs.length) await appendEvents(spec.ledger, evs);
        rememberRegistrations(spec.known, evs);
        samples++;
      } catch (e) {
        progress(`run: telemetry sample failed: ${(e as Error).message.split("\n")[0]}`);
      }
      await Promise.race([done, new Promise((r) => setTimeout(r, spec.sampleMs))]);
    }
  })();

  let driveError: string | undefined;
  if (launch.mode === "server") {
    try {
      await driveServer(spec, launch.port!, done, stopCtl.signal);
    } catch (e) {
      driveError = (e as Error).message;
    }
    if (!interrupted) running.kill("INT");
  }
  const exit = await done;
  finished = true;
  await sampler;
  process.off("SIGINT", onInt);
  process.off("SIGTERM", onTerm);

  flushPartialLines();
  let actual: Actual = {};
  try {
    actual = launch.parse(head + tail);
  } catch (e) {
    progress(`run: could not parse the engine log: ${(e as Error).message.split("\n")[0]}`);
  }
  const durationS = (Date.now() - started) / 1000;
  const base = { jobId, predicted, actual, command: launch.argv, durationS, telemetrySamples: samples };
  const exitCode = exit.code ?? null;
  if (interrupted) {
    const reason = `interrupted by ${interrupted}`;
    await appendEvents(spec.ledger, [makeEvent("job_failed", { jobId, reason, exitCode, actual: { ...actual }, durationS }, at)]);
    return { ...base, status: "interrupted", reason };
  }
  const cleanExit = launch.mode === "oneshot" ? exit.code === 0 : !driveError;
  if (!cleanExit || exit.error) {
    // 127 is the remote shell's "command not found" (a wrong --binary path on an SSH host).
    const reason =
      exit.error ??
      engineError(head + tail) ??
      (exit.code === 127 ? `command not found: ${launch.argv[0]}` : undefined) ??
      driveError ??
      `engine exited with code ${exit.code}${exit.signal ? ` (signal ${exit.signal})` : ""}`;
    await appendEvents(spec.ledger, [makeEvent("job_failed", { jobId, reason, exitCode, actual: { ...actual }, durationS }, at)]);
    return { ...base, status: "failed", reason };
  }
  const events: Event[] = [makeEvent("job_completed", { jobId, actual: { ...actual }, durationS }, at)];
  await appendEvents(spec.ledger, events);
  return { ...base, status: "completed" };
}

/** The engine's own last error line: the embedded runner's, llama.cpp's, or a Python traceback's last line. */
export function engineError(log: string): string | undefined {
  const lines = log.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^hwledger_embedded: error: (.*)$/.exec(lines[i]);
    if (m) return m[1];
  }
  for (let i = lines.length - 1; i >= 0; i--) if (/^(error|\w+Error:|.*\berror:)/i.test(lines[i])) return lines[i].slice(0, 300);
  return undefined;
}
