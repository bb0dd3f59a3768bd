// hwledger prices: cloud offers and owned-hardware prices from every price plugin; quotes go to the ledger.
import type { Command } from "commander";
import { hostname } from "node:os";
import { printJson, printLines, progress } from "../output.js";
import { columns } from "../table.js";
import { ledgerDirFlag } from "../args.js";

interface PricesFlags {
  online?: boolean;
  ledger?: string;
  record?: boolean;
  device?: string;
  json?: boolean;
}

export function registerPrices(program: Command): void {
  program
    .command("prices")
    .description("cloud GPU offers (Vast.ai, RunPod, Lambda, SkyPilot catalogs) and owned-hardware prices")
    .option("--online", "ask the providers' live APIs (falls back to the shipped snapshots)")
    .option("--device <id>", "only offers for this catalog device id")
    .option("--record", "append each quote to the ledger as a price_quoted event")
    .option("--ledger <dir>", "ledger directory (default: $HWLEDGER_LEDGER or ~/.local/share/hwledger/ledger)")
    .option("--json", "print one JSON document on stdout")
    .action(async (flags: PricesFlags) => {
      const { loadPrices } = await import("../../loaders/prices.js");
      const prices = await loadPrices(flags.online ? { online: true } : {});
      const offers = flags.device ? prices.offers.filter((o) => o.deviceId === flags.device) : prices.offers;
      if (flags.record) {
        const { appendEvents } = await import("../../lib/ledger/index.js");
        const ledger = await ledgerDirFlag(flags.ledger);
        const { makeEvent } = await import("../../lib/fleet/events.js");
        const host = hostname();
        const events = offers.flatMap((o) =>
          (
            [
              [o.onDemandPerHour, false],
              [o.spotPerHour, true],
            ] as const
          )
            .filter(([v]) => v !== undefined)
            .map(([v, spot]) =>
              makeEvent("price_quoted", { device: o.deviceId ?? o.gpuName, source: `${o.provider}:${o.source}`, pricePerHour: v!, currency: "USD", spot, ...(o.region ? { region: o.region } : {}), offerId: o.offerId, gpuCount: o.gpuCount, quotedAt: o.quotedAt }, { host }),
            ),
        );
        if (events.length) await appendEvents(ledger, events);
        progress(`recorded ${events.length} price_quoted event(s)`);
      }
      const { dedupeOffers, quoteAge, screenOffers } = await import("../../lib/fleet/offers.js");
      const { formatPerHour, formatUsd } = await import("../../lib/fleet/cost.js");
      // Flagged against the bands of every loaded offer (not just --device's), for on-demand and for spot.
      const why = new Map<object, string>();
      for (const spot of [false, true]) for (const f of screenOffers(prices.offers, spot).flagged) why.set(f.offer, `${why.has(f.offer) ? why.get(f.offer) + "; " : ""}${spot ? "spot " : ""}${f.reason}`);
      const flagged = offers.filter((o) => why.has(o)).map((o) => ({ provider: o.provider, offerId: o.offerId, reason: why.get(o)! }));
      if (flags.json) return printJson({ offers, flagged, purchases: prices.purchases, sources: prices.sources });
      for (const s of prices.sources) progress(`${s.plugin}: ${s.mode} (${s.offers} offers)${s.reason ? ` — ${s.reason}` : ""}`);
      // Identical quotes of one instance type in many regions print once, with how many regions sell it.
      const reasonOf = (o: (typeof offers)[number]) => offers.filter((x) => why.has(x) && x.provider === o.provider && x.offerId === o.offerId && x.onDemandPerHour === o.onDemandPerHour && x.spotPerHour === o.spotPerHour).map((x) => why.get(x))[0];
      const rows = dedupeOffers(offers).map((o) => {
        const flag = reasonOf(o);
        return [
          o.provider,
          `${o.gpuCount}x`,
          o.deviceId ?? o.gpuName,
          o.onDemandPerHour !== undefined ? formatPerHour(o.onDemandPerHour) : "-",
          `spot ${o.spotPerHour !== undefined ? formatPerHour(o.spotPerHour) : "-"}`,
          o.count > 1 ? `${o.count} regions` : (o.region ?? ""),
          `${o.source}, ${quoteAge(o.quotedAt)}${flag ? ` — FLAGGED, not ranked: ${flag}` : ""}`,
        ];
      });
      for (const p of prices.purchases) rows.push(["owned", "", p.deviceId, `purchase ${formatUsd(p.price)}`, "", "", `${p.source}, ${quoteAge(p.quotedAt)}`]);
      printLines(columns(rows, ["left", "right", "left", "right", "left", "left", "left"]));
    });
}
