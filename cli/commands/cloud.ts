// hwledger cloud offers|up|status|down: rent what dispatch recommends on Vast.ai, RunPod or Lambda Cloud, with
// a spending limit per instance and per day, and see or stop every instance hwledger started.
import type { Command } from "commander";
import { InputError, RuntimeFailure } from "../../collector/errors.js";
import type { Offer } from "../../lib/fleet/offers.js";
import type { Rental } from "../../lib/fleet/rent.js";
import { redactError } from "../../plugins/redact.js";
import { printJson, printLines, progress } from "../output.js";
import { flagValue, ledgerDirFlag, optFlag } from "../args.js";
import { addRentOptions } from "./cloud-flags.js";
import { cloudUp } from "./cloud-up.js";

const lib = () => Promise.all([import("../../collector/cloud/providers.js"), import("../../collector/cloud/manage.js")]);

/** Keys never reach the terminal: every error leaves through the redaction of known secrets. */
const guarded =
  <A extends unknown[]>(fn: (...a: A) => Promise<void>) =>
  async (...a: A) => {
    try {
      await fn(...a);
    } catch (e) {
      throw redactError(e);
    }
  };

const money = (v: number | undefined, digits = 4) => (v === undefined ? "-" : `$${v.toFixed(digits)}`);

function offerLine(o: Offer, mode: string): string {
  const price = o.onDemandPerHour ?? o.spotPerHour;
  return `${money(price).padStart(9)}/h ${`${o.gpuCount}×`.padStart(3)} ${o.gpuName.slice(0, 28).padEnd(28)} ${`${o.provider}/${o.offerId}`.slice(0, 44).padEnd(44)} ${mode}`;
}

function rentalLine(r: Rental): string {
  const id = `${r.provider}/${r.instanceId ?? "(none)"}`;
  const state = r.providerState && r.providerState !== r.state ? `${r.state} (${r.providerState})` : r.state;
  return `${id.padEnd(34)} ${state.padEnd(22)} ${money(r.perHour).padStart(9)}/h  ${money(r.costUsd)} ${r.costBasis ? `(${r.costBasis})` : ""}${r.deadline && !r.endedAt ? `  stops by ${r.deadline}` : ""}${r.untracked ? "  [not in this ledger]" : ""}${r.reason && r.endedAt ? `  ${r.reason}` : ""}`;
}

export function registerCloud(program: Command): void {
  const cloud = program.command("cloud").description("rent cloud GPUs (Vast.ai, RunPod, Lambda) with spending limits; see and stop them");

  cloud
    .command("offers")
    .description("offers from each provider: live when it can be asked, else its shipped snapshot (labelled)")
    .option("--provider <name>", "only this provider (vastai, runpod, lambda)")
    .option("--gpu <text>", "GPU name contains this (case-insensitive)")
    .option("--gpus <n>", "GPUs per offer")
    .option("--max-price <usd>", "at most this per hour")
    .option("--top <n>", "rows to print (text output)", "20")
    .option("--json", "print one JSON document on stdout")
    .action(
      guarded(async (f: { provider?: string; gpu?: string; gpus?: string; maxPrice?: string; top: string; json?: boolean }) => {
        const [{ connectAll, pick }, { listOffers }] = await lib();
        let conns = await connectAll({ retries: 1 });
        if (f.provider) conns = [pick(conns, f.provider)];
        const gpuCount = optFlag("tp", f.gpus, "--gpus");
        const maxPrice = optFlag("usd", f.maxPrice, "--max-price");
        const top = flagValue("seqs", f.top, "--top");
        const { offers, sources } = await listOffers(conns, { online: !process.env.HWLEDGER_OFFLINE, ...(gpuCount ? { gpuCount } : {}) });
        const mode = new Map(sources.map((s) => [s.provider, s.mode === "live" ? "live" : "snapshot"]));
        const shown = offers
          .filter((o) => (!f.gpu || o.gpuName.toLowerCase().includes(f.gpu.toLowerCase())) && (maxPrice === undefined || (o.onDemandPerHour ?? Infinity) <= maxPrice))
          .sort((a, b) => (a.onDemandPerHour ?? Infinity) - (b.onDemandPerHour ?? Infinity));
        if (f.json) return printJson({ sources, offers: shown.map((o) => ({ ...o, mode: mode.get(o.provider) })) });
        const lines = sources.map((s) =>
          s.mode === "live" ? `${s.provider.padEnd(8)} live: ${s.offers} offers` : `${s.provider.padEnd(8)} SNAPSHOT (${s.reason}): ${s.offers} offers; prices may be stale and IDs no longer rentable`,
        );
        lines.push(...shown.slice(0, top).map((o) => offerLine(o, mode.get(o.provider) ?? "")));
        printLines(lines);
      }),
    );

  addRentOptions(
    cloud
      .command("up")
      .description("rent one offer (asks first on a terminal; prints its price per hour and the spending limit)")
      .option("--offer <provider/id>", "the offer to rent, as `cloud offers` prints it (e.g. vastai/11684738)")
      .option("--from-dispatch", "rent the best cloud offer of the last `hwledger dispatch` recorded in the ledger")
      .option("--spot", "interruptible, at --bid or the offer's minimum bid (Vast.ai)")
      .option("--bid <usd>", "bid per hour for --spot")
      .option("--ledger <dir>", "ledger directory")
      .option("--json", "print one JSON document on stdout"),
  ).action(guarded(cloudUp));

  cloud
    .command("status")
    .description("every instance hwledger started (ledger + each provider's list), its state and its cost so far")
    .option("--enforce", "stop instances past their deadline or spending limit (run it from cron)")
    .option("--ledger <dir>", "ledger directory")
    .option("--json", "print one JSON document on stdout")
    .action(
      guarded(async (f: { enforce?: boolean; ledger?: string; json?: boolean }) => {
        const [{ connectAll, assertOnline }, { status }] = await lib();
        if (f.enforce) assertOnline("cloud status --enforce");
        let conns = await connectAll({ retries: 1 });
        // Offline: the ledger's view only, labelled as such.
        if (process.env.HWLEDGER_OFFLINE) conns = conns.map(({ ctx: _, ...c }) => c);
        const r = await status(await ledgerDirFlag(f.ledger), conns, { enforce: f.enforce });
        for (const u of r.unreachable) progress(`hwledger: ${u} (showing the ledger's view)`);
        const asked = conns.filter((c) => c.ctx).map((c) => c.plugin.provider);
        if (f.json) return printJson({ providersAsked: asked, rentals: r.rentals, enforced: r.enforced.map((e) => ({ provider: e.rental.provider, instanceId: e.rental.instanceId, result: e.result, detail: e.detail })) });
        const lines = r.enforced.map((e) => `enforced: ${e.rental.provider}/${e.rental.instanceId}: ${e.result} (${e.detail})`);
        lines.push(...(r.rentals.length ? r.rentals.map(rentalLine) : ["no rentals in this ledger"]));
        if (conns.some((c) => !c.ctx)) lines.push(`ledger view only for: ${conns.filter((c) => !c.ctx).map((c) => c.plugin.provider).join(", ")} (no key, or offline)`);
        printLines(lines);
        if (r.enforced.some((e) => e.result === "failed")) throw new RuntimeFailure("some instances could not be stopped");
      }),
    );

  cloud
    .command("down [id]")
    .description("destroy an instance (provider/id, id or rental id) or --all; safe to repeat")
    .option("--all", "every instance hwledger started that may still cost money")
    .option("--ledger <dir>", "ledger directory")
    .option("--json", "print one JSON document on stdout")
    .action(
      guarded(async (id: string | undefined, f: { all?: boolean; ledger?: string; json?: boolean }) => {
        if (!!id === !!f.all) throw new InputError("give an instance id or --all");
        const [{ connectAll, assertOnline }, { down }] = await lib();
        assertOnline("cloud down");
        const r = await down(await ledgerDirFlag(f.ledger), await connectAll(), id ? { id } : { all: true });
        for (const u of r.unreachable) progress(`hwledger: ${u}`);
        const rows = r.outcomes.map((o) => ({ provider: o.rental.provider, instanceId: o.rental.instanceId ?? null, intentId: o.rental.intentId ?? null, result: o.result, detail: o.detail }));
        if (f.json) printJson({ outcomes: rows });
        else printLines(rows.length ? rows.map((o) => `${o.provider}/${o.instanceId ?? "(none)"}: ${o.result}${o.detail ? ` (${o.detail})` : ""}`) : ["nothing to stop"]);
        if (r.outcomes.some((o) => o.result === "failed") || r.unreachable.length) throw new RuntimeFailure("some instances could not be stopped; run hwledger cloud down again");
      }),
    );
}
