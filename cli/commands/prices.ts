// hwledger prices: cloud offers and owned-hardware prices from every price plugin; quotes go to the ledger.
import type { Command } from "commander";
import { hostname } from "node:os";
import { printJson, printLines, progress } from "../output.js";
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
      if (flags.json) return printJson({ offers, purchases: prices.purchases, sources: prices.sources });
      for (const s of prices.sources) progress(`${s.plugin}: ${s.mode} (${s.offers} offers)${s.reason ? ` — ${s.reason}` : ""}`);
      const lines = offers.map((o) => `${o.provider.padEnd(8)} ${String(o.gpuCount).padStart(2)}x ${(o.deviceId ?? o.gpuName).padEnd(16)} ${o.onDemandPerHour !== undefined ? `$${o.onDemandPerHour.toFixed(3)}/h` : "        -"}  spot ${o.spotPerHour !== undefined ? `$${o.spotPerHour.toFixed(3)}/h` : "-"}  ${o.region ?? ""}`);
      for (const p of prices.purchases) lines.push(`owned    ${p.deviceId.padEnd(19)} purchase $${p.price} (${p.quotedAt.slice(0, 10)})`);
      printLines(lines);
    });
}
