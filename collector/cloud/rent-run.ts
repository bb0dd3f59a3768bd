// `hwledger dispatch … --rent`: rank live cloud offers for the job, rent the best one, wait until SSH answers,
// run the job there through the launcher (collector/run/launcher.ts runJob over SSH), record the actuals, stop
// the instance and record what it cost. The instance is stopped on every way out but kill -9 (then
// `cloud status` shows it and `cloud down --all` stops it).
import type { Deployment, ModelSpec } from "../../lib/calc/index.js";
import { InputError } from "../../lib/calc/index.js";
import { dispatchCandidates } from "../../lib/fleet/candidates.js";
import { catalogDevices } from "../../lib/fleet/devices.js";
import { dispatch, usableTp } from "../../lib/fleet/dispatch.js";
import type { DispatchJob, RankedCandidate } from "../../lib/fleet/dispatch.js";
import type { Offer } from "../../lib/fleet/offers.js";
import { parseOfferCandidateId } from "../../lib/fleet/rent.js";
import { CloudInputError, CloudRuntimeError } from "../../plugins/cloud-contract.js";
import { redact } from "../../plugins/redact.js";
import { ENGINES } from "../../plugins/engines.js";
import { parseRunEngine, runJob } from "../run/launcher.js";
import type { RunResult } from "../run/launcher.js";
import { SshTransport } from "../transport/index.js";
import type { Connected } from "./providers.js";
import { assertOnline, withKey } from "./providers.js";
import { record } from "./records.js";
import { endRental, offerPrice, planFor, recordAttemptFailure, rent } from "./rental.js";
import type { Limits, SshChoice } from "./rental.js";

export interface RentRunOptions {
  ledger: string;
  conns: Connected[];
  model: ModelSpec;
  base: Deployment;
  job: DispatchJob;
  fixedEngine: boolean;
  spot: boolean;
  limits: Limits;
  readyTimeoutS: number;
  image?: string;
  diskGb: number;
  ssh: SshChoice;
  /** What the engine loads on the instance: a GGUF path there, an HF id or folder (default: the local reference). */
  modelRef: string;
  /** The engine's executable on the instance (default: its usual name on PATH). */
  binary?: string;
  /** hwledger installed on the instance: the engine plugin's embedded runner runs from there when it has no binary. */
  remoteHwledger?: string;
  /** Asked once the offer, its price and the limits are known; false aborts before anything is rented. */
  confirm(summary: string[]): Promise<boolean>;
  progress(line: string): void;
}

export interface RentRunResult {
  offer: { provider: string; offerId: string; gpuName: string; gpuCount: number; perHour: number };
  estimate: { seconds: number; cost: number | null };
  limits: { deadline: string; limitUsd: number; boundBy: string };
  instance: { provider: string; instanceId: string; host: string };
  job: Pick<RunResult, "jobId" | "status" | "actual" | "reason" | "durationS">;
  cost: { amount: number; basis: string };
}

async function liveOffers(conns: Connected[], progress: (l: string) => void, ledger: string): Promise<Offer[]> {
  const keyed = conns.filter((c) => c.ctx);
  if (!keyed.length) throw new CloudInputError("no-key", `no cloud API key found: set ${conns.map((c) => `$${c.plugin.keySource.env}`).join(", ")}`);
  const lists = await Promise.all(
    keyed.map((c) =>
      c.plugin.searchOffers(withKey(c), {}).catch(async (e: Error) => {
        if (e instanceof InputError) {
          await recordAttemptFailure(ledger, c.plugin.provider, e);
          throw e;
        }
        progress(`dispatch --rent: ${redact(e.message.split("\n")[0])}; skipping ${c.plugin.title}`);
        return [] as Offer[];
      }),
    ),
  );
  return lists.flat();
}

/** The best ranked cloud candidate and the live offer behind it. */
function bestOffer(ranked: RankedCandidate[], offers: Offer[]): { cand: RankedCandidate; offer: Offer } | undefined {
  for (const cand of ranked) {
    const ref = parseOfferCandidateId(cand.id);
    const matches = ref ? offers.filter((o) => o.provider === ref.provider && o.offerId === ref.offerId && o.gpuCount === cand.count) : [];
    const offer = matches.sort((a, b) => (a.onDemandPerHour ?? Infinity) - (b.onDemandPerHour ?? Infinity))[0];
    if (offer) return { cand, offer };
  }
  return undefined;
}

/** The runner's program as an absolute path on the instance (found once, with time for a busy host). */
/** Node on the instance, for the hwledger install there (--remote-hwledger). */
async function remoteNode(t: SshTransport): Promise<string> {
  const r = await t.exec(["sh", "-c", 'command -v "$1"', "sh", "node"], { timeoutMs: 60_000 });
  const path = r.stdout.trim().split("\n")[0];
  if (r.code !== 0 || !path.startsWith("/")) throw new CloudRuntimeError("provider-error", `node is not installed on ${t.target} (needed by --remote-hwledger)`);
  return path;
}

export async function rentAndRun(o: RentRunOptions): Promise<RentRunResult> {
  assertOnline("dispatch --rent");
  const offers = await liveOffers(o.conns, o.progress, o.ledger);
  const candidates = dispatchCandidates({
    catalog: catalogDevices(),
    fleet: [],
    offers,
    purchases: [],
    base: o.base,
    engines: ENGINES,
    fixedEngine: o.fixedEngine,
    spot: o.spot,
    lifespanYears: 1,
    utilization: 1,
    electricityPerKwh: 0,
  }).filter((c) => c.source === "offer");
  const ranked = dispatch(o.model, o.base, o.job, candidates, ENGINES);
  const best = bestOffer(ranked.candidates, offers);
  if (!best) {
    const why = ranked.rejected[0] ? ` (e.g. ${ranked.rejected[0].id}: ${ranked.rejected[0].reason})` : "";
    throw new CloudRuntimeError("no-capacity", `no live cloud offer fits this job: ${offers.length} offers, ${ranked.rejected.length} rejected${why}`);
  }
  const { cand, offer } = best;
  await record(o.ledger, "dispatch_decided", { chosen: cand.id, decision: { model: o.model.id, job: o.job, top: ranked.candidates.slice(0, 5), rejected: ranked.rejected.length, rent: true } });
  // Everything that could be bad input is checked before anything is rented.
  const engine = parseRunEngine(cand.engine);
  if (engine.launch.modelFile === "gguf" && !/\.gguf$/i.test(o.modelRef)) throw new InputError(`${engine.label} runs a GGUF file: pass --gguf FILE (or --remote-model PATH on the instance)`);
  const conn = o.conns.find((c) => c.plugin.provider === offer.provider)!;
  const bid = o.spot ? offer.spotPerHour : undefined;
  const perHour = offerPrice(offer, bid);
  const plan = await planFor(o.ledger, perHour, o.limits);
  if (cand.seconds > plan.hours * 3600)
    throw new InputError(`the job needs about ${(cand.seconds / 3600).toFixed(2)} h on ${offer.gpuName}, past the ${plan.hours.toFixed(2)} h the limits allow (${plan.boundBy}); raise --spend-limit/--max-hours`);
  const summary = [
    `rent ${offer.provider}/${offer.offerId}: ${offer.gpuCount}× ${offer.gpuName} at $${perHour.toFixed(4)}/h${bid !== undefined ? " (interruptible bid)" : ""}`,
    `job: ${cand.engine}, about ${cand.seconds.toFixed(0)} s, about $${(cand.cost ?? 0).toFixed(4)}`,
    `spending limit: $${plan.limitUsd.toFixed(2)} for this instance (${plan.boundBy}), stopped by ${plan.deadline.toISOString()} at the latest; $${plan.committedTodayUsd.toFixed(2)} of the $${o.limits.dailyLimitUsd.toFixed(2)} daily limit already committed`,
  ];
  if (!(await o.confirm(summary))) throw new InputError("not confirmed: nothing rented");

  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => abort.abort(sig);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const rented = await rent({
      ledger: o.ledger,
      conn,
      offer,
      ...(bid !== undefined ? { bidPerHour: bid } : {}),
      plan,
      ...(o.image ? { image: o.image } : {}),
      diskGb: o.diskGb,
      ssh: o.ssh,
      readyTimeoutS: o.readyTimeoutS,
      signal: abort.signal,
      progress: o.progress,
    });
    // One connection kept open for the whole job (the launcher's quick remote checks have short timeouts; a busy
    // instance's SSH handshake can take longer than they allow).
    const transport = new SshTransport(rented.sshUrl, { knownHostsFile: rented.knownHostsFile, connectTimeoutMs: 30_000, idleMs: 60_000, ...(rented.identityFile ? { identityFile: rented.identityFile } : {}) });
    // The deadline stops the engine the way Ctrl-C does (the launcher's own SIGTERM handling), so the outcome is recorded.
    let deadlineHit = false;
    const timer = setTimeout(() => {
      deadlineHit = true;
      o.progress(`dispatch --rent: deadline ${rented.deadline.toISOString()} reached: stopping the job`);
      process.emit("SIGTERM", "SIGTERM");
    }, Math.max(0, rented.deadline.getTime() - Date.now()));
    let run: RunResult | undefined;
    let runError: unknown;
    try {
      if (!abort.signal.aborted) {
        const remoteInstall = o.remoteHwledger ? { node: await remoteNode(transport), dir: o.remoteHwledger } : undefined;
        o.progress(`dispatch --rent: running the job on ${rented.provider}/${rented.instanceId}`);
        // The deployment dispatch ranked this candidate with (lib/fleet/dispatch.ts): base, job shape, usable TP.
        const dep: Deployment = { ...o.base, engine: engine.id, context: o.job.context, seqs: o.job.seqs, pp: 1, tp: usableTp(o.model, cand.count) };
        run = await runJob({
          engine,
          model: o.model,
          modelRef: o.modelRef,
          dep,
          ...(o.job.prompt ? { promptTokens: o.job.prompt } : {}),
          gen: o.job.tokens,
          ...(o.binary ? { binary: o.binary } : {}),
          ...(remoteInstall ? { remoteInstall } : {}),
          host: rented.host,
          transport,
          ledger: o.ledger,
          sampleMs: 1000,
          known: new Map(),
        });
      }
    } catch (e) {
      runError = e;
    } finally {
      clearTimeout(timer);
      await transport.close();
    }
    const reason = deadlineHit ? "deadline reached" : abort.signal.aborted ? `interrupted by ${String(abort.signal.reason)}` : run ? `job ${run.jobId} ${run.status}` : "the job could not start";
    const { cost } = await endRental(o.ledger, conn, { intentId: rented.intentId, instanceId: rented.instanceId, perHour, requestedAt: rented.requestedAt }, { type: "instance_stopped", reason });
    o.progress(`dispatch --rent: ${rented.provider}/${rented.instanceId} destroyed; cost $${cost.amount.toFixed(4)} (${cost.basis})`);
    if (runError) throw runError;
    return {
      offer: { provider: offer.provider, offerId: offer.offerId, gpuName: offer.gpuName, gpuCount: offer.gpuCount, perHour },
      estimate: { seconds: cand.seconds, cost: cand.cost },
      limits: { deadline: plan.deadline.toISOString(), limitUsd: plan.limitUsd, boundBy: plan.boundBy },
      instance: { provider: rented.provider, instanceId: rented.instanceId, host: rented.host },
      job: run
        ? { jobId: run.jobId, status: run.status, actual: run.actual, durationS: run.durationS, ...(run.reason ? { reason: run.reason } : {}) }
        : { jobId: "", status: "interrupted", actual: {}, durationS: 0, reason },
      cost,
    };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
