// `hwledger cloud up`: rent one offer (named, or the best cloud offer of the last recorded dispatch), after
// showing its price per hour and the spending limit and asking on a terminal.
import { InputError } from "../../collector/errors.js";
import { parseOfferCandidateId } from "../../lib/fleet/rent.js";
import { printJson, printLines, progress } from "../output.js";
import { ledgerDirFlag, optFlag } from "../args.js";
import { confirmRent, rentSettings } from "./cloud-flags.js";
import type { RentFlags } from "./cloud-flags.js";

export interface UpFlags extends RentFlags {
  offer?: string;
  fromDispatch?: boolean;
  spot?: boolean;
  bid?: string;
  ledger?: string;
  json?: boolean;
}

type Ref = { provider: string; offerId: string };

/** PROVIDER/ID from --offer, or the cloud candidates of the last dispatch_decided event, best first. */
async function offerRefs(f: UpFlags, ledger: string): Promise<Ref[]> {
  if (f.offer) {
    const slash = f.offer.indexOf("/");
    if (slash <= 0 || slash === f.offer.length - 1) throw new InputError(`--offer is PROVIDER/ID (e.g. vastai/11684738), got "${f.offer}"`);
    return [{ provider: f.offer.slice(0, slash), offerId: f.offer.slice(slash + 1) }];
  }
  const { readEvents } = await import("../../lib/ledger/index.js");
  const decided = (await readEvents(ledger, "type = 'dispatch_decided'")).at(-1);
  const top = ((decided?.payload as { decision?: { top?: Array<{ id: string }> } })?.decision?.top ?? []).map((c) => parseOfferCandidateId(c.id)).filter((r): r is Ref => !!r);
  if (!top.length) throw new InputError("no cloud offer in the last dispatch decision of this ledger: run hwledger dispatch first, or give --offer");
  return top;
}

export async function cloudUp(f: UpFlags): Promise<void> {
  if (!!f.offer === !!f.fromDispatch) throw new InputError("give --offer PROVIDER/ID or --from-dispatch");
  if (f.bid !== undefined && !f.spot) throw new InputError("--bid is for --spot");
  const s = rentSettings(f);
  const { connectAll, pick, assertOnline, withKey } = await import("../../collector/cloud/providers.js");
  const { findOffer } = await import("../../collector/cloud/manage.js");
  const { rent, planFor, offerPrice, recordAttemptFailure } = await import("../../collector/cloud/rental.js");
  const ledger = await ledgerDirFlag(f.ledger);
  const refs = await offerRefs(f, ledger);
  assertOnline("cloud up");
  const conns = await connectAll();
  // --from-dispatch: the best of the decision's offers that is still listed (a snapshot's may be gone).
  let ref = refs[refs.length - 1];
  if (refs.length > 1)
    for (const r of refs)
      if (await findOffer(pick(conns, r.provider), r.offerId).then(() => true, () => false)) {
        ref = r;
        break;
      }
  const conn = pick(conns, ref.provider);
  // Failures before the intent is recorded (key, offer, limits) are recorded here; rent() records its own.
  let renting = false;
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => abort.abort(sig);
  try {
    withKey(conn);
    const offer = await findOffer(conn, ref.offerId);
    const bid = f.spot ? (optFlag("usd", f.bid, "--bid") ?? offer.spotPerHour) : undefined;
    if (f.spot && bid === undefined) throw new InputError(`${ref.provider}/${ref.offerId} has no interruptible price: give --bid`);
    const perHour = offerPrice(offer, bid);
    const plan = await planFor(ledger, perHour, s.limits);
    const summary = [
      `rent ${offer.provider}/${offer.offerId}: ${offer.gpuCount}× ${offer.gpuName}${offer.region ? ` (${offer.region})` : ""}`,
      `price: $${perHour.toFixed(4)}/h${bid !== undefined ? " (interruptible bid)" : ""}`,
      `spending limit: $${plan.limitUsd.toFixed(2)} (${plan.boundBy}); stop it by ${plan.deadline.toISOString()} (hwledger cloud status --enforce stops it then); daily limit $${s.limits.dailyLimitUsd.toFixed(2)}, $${plan.committedTodayUsd.toFixed(2)} already committed today`,
    ];
    if (!(await confirmRent(summary, f.yes))) throw new InputError("not confirmed: nothing rented");
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    renting = true;
    const r = await rent({ ledger, conn, offer, ...(bid !== undefined ? { bidPerHour: bid } : {}), plan, ...(s.image ? { image: s.image } : {}), diskGb: s.diskGb, ssh: s.ssh, readyTimeoutS: s.readyTimeoutS, signal: abort.signal, progress });
    const at = new URL(r.sshUrl);
    const ssh = { host: at.hostname.replace(/^\[|\]$/g, ""), port: Number(at.port), user: decodeURIComponent(at.username) };
    const out = { intentId: r.intentId, provider: r.provider, instanceId: r.instanceId, host: r.host, ssh, perHour, limitUsd: plan.limitUsd, deadline: plan.deadline.toISOString() };
    if (f.json) return printJson(out);
    printLines([
        `${r.provider}/${r.instanceId} running at $${perHour.toFixed(4)}/h; spending limit $${plan.limitUsd.toFixed(2)}, stop it by ${out.deadline}`,
        `ssh -p ${ssh.port} ${ssh.user}@${ssh.host}`,
        `stop it: hwledger cloud down ${r.provider}/${r.instanceId}`,
    ]);
  } catch (e) {
    if (!renting) await recordAttemptFailure(ledger, conn.plugin.provider, e, ref.offerId);
    throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
