// The `hwledger run` launcher: plan, record the prediction, start the engine with argument arrays built from
// the plan, sample telemetry while it runs, parse the engine's own log into actuals, record the outcome.
import { access, constants } from "node:fs/promises";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError, llamaCppContext, plan } from "../../lib/calc/index.js";
import type { Deployment, ModelSpec } from "../../lib/calc/index.js";
import { makeEvent } from "../../lib/fleet/events.js";
import type { Event } from "../../lib/fleet/events.js";
import { ulid } from "../../lib/fleet/ulid.js";
import { appendEvents } from "../../lib/ledger/index.js";
import type { Transport } from "../transport/index.js";
import { planJson } from "../../lib/calc/index.js";
import { progress } from "../../cli/output.js";
import { rememberRegistrations } from "./host.js";
import { probeEvents, probeHost, hostDeviceId } from "./probe-host.js";
import type { KnownDevice } from "./probe-host.js";

export const EMBEDDED_LLAMA = fileURLToPath(new URL("./llama-embedded.mjs", import.meta.url));

export type RunEngine = "llama.cpp" | "vllm" | "mlx";

export interface Actual {
  weightsBytes?: number;
  kvCacheBytes?: number;
  computeBytes?: number;
  promptTokensPerSecond?: number;
  decodeTokensPerSecond?: number;
}

export interface RunSpec {
  engine: RunEngine;
  model: ModelSpec;
  /** What the engine loads: a GGUF path for llama.cpp, an HF id or folder for vLLM/MLX. */
  modelRef: string;
  dep: Deployment;
  prompt?: string;
  promptTokens?: number;
  gen: number;
  llamaServer?: string;
  /**
   * How to start the embedded llama.cpp on a remote host that has hwledger installed (no llama-server there):
   * the argv before its JSON options, e.g. ["node", "/opt/hwledger/collector/run/llama-embedded.mjs"].
   */
  embeddedRunner?: string[];
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
}

/** How the engine is started: a one-shot process that exits by itself, or a server we query, then stop. */
interface Launch {
  argv: string[];
  mode: "oneshot" | "server";
  port?: number;
  parse: (log: string) => Actual;
}

const ENGINES: Record<string, RunEngine> = { "llama.cpp": "llama.cpp", llamacpp: "llama.cpp", vllm: "vllm", mlx: "mlx", "mlx-lm": "mlx" };

export function parseRunEngine(s: string): RunEngine {
  const e = ENGINES[s.toLowerCase()];
  if (!e) throw new InputError(`--engine must be llama.cpp, vllm or mlx for run, got "${s}"`);
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

type Mod = Record<string, unknown>;

// An engine plugin (plugins/engine-NAME/index.ts), loaded on demand: its own argument builder and log parser.
async function enginePlugin(engine: RunEngine): Promise<Mod> {
  const folder = { "llama.cpp": "engine-llamacpp", vllm: "engine-vllm", mlx: "engine-mlx" }[engine];
  try {
    return (await import(`../../plugins/${folder}/index.js`)) as Mod;
  } catch (e) {
    throw new Error(`plugins/${folder} is not available: ${(e as Error).message.split("\n")[0]}`);
  }
}

function fn<T extends (...a: never[]) => unknown>(mod: Mod, name: string): T {
  const f = mod[name];
  if (typeof f !== "function") throw new Error(`engine plugin exports no ${name}`);
  return f as T;
}

/** The command for this run, built from the plan (argument arrays only; nothing goes through a shell here). */
export async function buildLaunch(spec: RunSpec): Promise<Launch> {
  const { engine, dep, model } = spec;
  const mod = await enginePlugin(engine);
  if (engine === "llama.cpp") {
    const parseLog = fn<(t: string) => Record<string, unknown>>(mod, "parseLlamaCppLog");
    // Only what the log showed: a run that died before allocating has no KV figure, not a zero one.
    const parse = (log: string) => {
      const f = parseLog(log) as Record<string, unknown> & { weightsBytesByBuffer?: object; kvCaches?: unknown[]; recurrent?: unknown[]; computeBytesByBuffer?: object };
      const has = (o?: object) => o !== undefined && Object.keys(o).length > 0;
      return cleanActual({
        weightsBytes: has(f.weightsBytesByBuffer) ? f.weightsBytes : undefined,
        kvCacheBytes: f.kvCaches?.length || f.recurrent?.length ? f.kvCacheBytes : undefined,
        computeBytes: has(f.computeBytesByBuffer) ? f.computeBytes : undefined,
        promptTokensPerSecond: f.promptTokensPerSecond,
        decodeTokensPerSecond: f.decodeTokensPerSecond,
      });
    };
    const server = spec.llamaServer ?? (await findExecutable(spec.transport, "llama-server"));
    const ctx = llamaCppContext(model, dep);
    if (server) {
      const port = await enginePort(spec.transport);
      const o = dep.options ?? {};
      const args = fn<(i: Record<string, unknown>) => string[]>(mod, "buildLlamaServerArgs")({
        model: spec.modelRef,
        context: dep.context,
        seqs: dep.seqs,
        kvDtypeK: dep.kvDtypeK,
        kvDtypeV: dep.kvDtypeV,
        flashAttention: ctx.flashAttention,
        batch: ctx.nBatch,
        ubatch: ctx.nUbatch,
        kvUnified: o.kvUnified,
        swaFull: o.swaFull,
        host: "127.0.0.1",
        port,
      });
      return { argv: [server, ...withoutBinary(args, "llama-server")], mode: "server", port, parse };
    }
    if (spec.transport.target !== "local" && !spec.embeddedRunner) throw new InputError(`no llama-server on ${spec.transport.target}: pass --llama-server PATH`);
    // The embedded engine: llama.cpp from node-llama-cpp in a child process, with the plan's context.
    const opts = {
      model: spec.modelRef,
      contextSize: ctx.nCtxSeq,
      sequences: ctx.nSeq,
      // node-llama-cpp sets n_ubatch = n_batch (AddonContext.cpp); the plan's compute graph is sized by n_ubatch.
      batchSize: ctx.nUbatch,
      flashAttention: ctx.flashAttention,
      kvTypeK: dep.kvDtypeK,
      kvTypeV: dep.kvDtypeV,
      prompt: spec.prompt,
      promptTokens: spec.promptTokens,
      gen: spec.gen,
      // One core stays with the launcher (telemetry, log): llama.cpp's spinning threads starve otherwise
      // (measured on 2 cores: 176 ms per decoded token with 2 threads, 0.6 ms with 1).
      threads: Math.max(1, availableParallelism() - 1),
    };
    return { argv: [...(spec.embeddedRunner ?? [process.execPath, EMBEDDED_LLAMA]), JSON.stringify(opts)], mode: "oneshot", parse };
  }
  if (engine === "vllm") {
    const port = await enginePort(spec.transport);
    const args = fn<(m: string, d: Deployment, o: Record<string, unknown>) => string[]>(mod, "buildVllmServeArgs")(spec.modelRef, dep, { host: "127.0.0.1", port });
    const parseLog = fn<(t: string) => { weightsBytes?: number; availableKvBytes?: number }>(mod, "parseVllmLog");
    // vLLM sizes its KV cache from the memory left after profiling ("Available KV cache memory"): that is its KV actual.
    const parse = (log: string) => {
      const f = parseLog(log);
      return cleanActual({ weightsBytes: f.weightsBytes, kvCacheBytes: f.availableKvBytes });
    };
    return { argv: ["vllm", ...withoutBinary(args, "vllm")], mode: "server", port, parse };
  }
  // MLX: mlx_lm.generate is one-shot and prints its own prompt/generation speed and peak memory.
  const prompt = spec.prompt ?? "hello ".repeat(spec.promptTokens ?? 8).trim();
  const argv = fn<(o: Record<string, unknown>) => string[]>(mod, "buildMlxArgs")({ model: spec.modelRef, deployment: dep, tool: "generate", prompt, maxTokens: spec.gen });
  const parseLog = fn<(t: string) => Array<{ promptTps?: number; generationTps?: number }>>(mod, "parseMlxLog");
  const parse = (log: string) => {
    const last = parseLog(log).at(-1);
    return cleanActual({ promptTokensPerSecond: last?.promptTps, decodeTokensPerSecond: last?.generationTps });
  };
  return { argv, mode: "oneshot", parse };
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
  const prompt = spec.prompt ?? "hello ".repeat(spec.promptTokens ?? 8);
  // llama-server's /completion (tools/server) prints print_timing for the request; vLLM takes OpenAI completions.
  const req =
    spec.engine === "llama.cpp"
      ? { path: "/completion", json: { prompt, n_predict: spec.gen, temperature: 0, cache_prompt: false } }
      : { path: "/v1/completions", json: { model: spec.modelRef, prompt, max_tokens: spec.gen, temperature: 0 } };
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
  const predicted = planJson(plan(spec.model, spec.dep));
  const at = { host: spec.host };
  const d = spec.dep;
  const deployment = { engine: d.engine, weights: d.weights, kvDtypeK: d.kvDtypeK, kvDtypeV: d.kvDtypeV, context: d.context, seqs: d.seqs, tp: d.tp, pp: d.pp };
  await appendEvents(spec.ledger, [
    // The request and the device let recorded speeds calibrate the speed model (loaders/runs.ts).
    makeEvent("job_planned", { jobId, engine: spec.engine, model: spec.model.id, modelRef: spec.modelRef, deployment, plan: predicted as never, request: { prompt: spec.promptTokens ?? 0, gen: spec.gen } }, { ...at, ...runDevice(spec) }),
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
    return fail((e as Error).message.split("\n")[0]);
  }

  // The head of the log holds the load-time memory lines, the tail the timings: keep both when it is long.
  let head = "";
  let tail = "";
  const onData = (b: Buffer) => {
    const s = b.toString("utf8");
    if (head.length < MAX_LOG) head += s;
    else {
      tail += s;
      if (tail.length > MAX_LOG / 4) tail = tail.slice(-MAX_LOG / 8);
    }
  };
  let interrupted: string | undefined;
  const stopCtl = new AbortController();
  let running: Awaited<ReturnType<Transport["spawn"]>>;
  // An engine that is not installed never started: say so before spawning (a local spawn reports ENOENT late).
  const bin = launch.argv[0];
  if (!bin.includes("/") && !(await findExecutable(spec.transport, bin))) return fail(`command not found: ${bin}`, {}, "failed", launch.argv);
  try {
    running = await spec.transport.spawn(launch.argv, { onStdout: onData, onStderr: onData });
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
  await appendEvents(spec.ledger, [makeEvent("job_started", { jobId, engine: spec.engine, command: launch.argv }, at)]);

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
    await appendEvents(spec.ledger, [makeEvent("job_failed", { jobId, reason, exitCode, actual, durationS }, at)]);
    return { ...base, status: "interrupted", reason };
  }
  const cleanExit = launch.mode === "oneshot" ? exit.code === 0 : !driveError;
  if (!cleanExit || exit.error) {
    // 127 is the remote shell's "command not found" (a wrong --llama-server path on an SSH host).
    const reason =
      exit.error ??
      engineError(head + tail) ??
      (exit.code === 127 ? `command not found: ${launch.argv[0]}` : undefined) ??
      driveError ??
      `engine exited with code ${exit.code}${exit.signal ? ` (signal ${exit.signal})` : ""}`;
    await appendEvents(spec.ledger, [makeEvent("job_failed", { jobId, reason, exitCode, actual, durationS }, at)]);
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
