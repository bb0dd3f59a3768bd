// Price sources: every price plugin, live when online, its shipped snapshot when not (or when the live call fails).
import { discoverPlugins } from "../plugins/index.js";
import type { PriceManifest } from "../plugins/price-util.js";
import { redacted } from "../plugins/price-util.js";
import { offerSchema } from "../lib/fleet/offers.js";
import type { Offer, PurchasePrice } from "../lib/fleet/offers.js";

export interface PriceSourceStatus {
  plugin: string;
  mode: "online" | "snapshot";
  offers: number;
  /** Why the snapshot was used. */
  reason?: string;
}

export interface LoadedPrices {
  offers: Offer[];
  purchases: PurchasePrice[];
  sources: PriceSourceStatus[];
}

export async function loadPrices(opts: { online?: boolean; timeoutMs?: number } = {}): Promise<LoadedPrices> {
  // Live APIs only when asked (--online): the default answer must not wait on a network it may not have.
  const online = (opts.online ?? false) && !process.env.HWLEDGER_OFFLINE;
  const offers: Offer[] = [];
  const purchases: PurchasePrice[] = [];
  const sources: PriceSourceStatus[] = [];
  for (const { folder, manifest } of await discoverPlugins("price")) {
    const p = manifest as unknown as PriceManifest;
    let got: Offer[] | undefined;
    let reason: string | undefined;
    if (online && p.fetchOnline) {
      try {
        got = await p.fetchOnline(opts.timeoutMs ?? 8000);
      } catch (e) {
        reason = redacted((e as Error).message.split("\n")[0]);
      }
    } else reason = online ? "no live source" : "offline";
    const mode = got ? "online" : "snapshot";
    got ??= p.snapshot();
    // Validate at the edge: a provider changing its format must not poison the planner.
    const valid = got.filter((o) => offerSchema.safeParse(o).success);
    offers.push(...valid);
    purchases.push(...(p.purchasePrices?.() ?? []));
    sources.push({ plugin: folder, mode, offers: valid.length, ...(reason ? { reason } : {}) });
  }
  return { offers, purchases, sources };
}
