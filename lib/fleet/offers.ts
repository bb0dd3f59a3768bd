// Cloud offers and owned-hardware prices, as every price plugin reports them.
import { z } from "zod";

export const offerSchema = z.object({
  provider: z.string(),
  /** Provider's own id for the offer or instance type. */
  offerId: z.string(),
  /** GPU name as the provider prints it. */
  gpuName: z.string(),
  /** Catalog device id when the GPU is one the catalog knows. */
  deviceId: z.string().optional(),
  gpuCount: z.number().int().positive(),
  memoryBytesPerGpu: z.number().positive().optional(),
  /** Price per hour for the whole offer (all its GPUs). */
  onDemandPerHour: z.number().nonnegative().optional(),
  spotPerHour: z.number().nonnegative().optional(),
  region: z.string().optional(),
  /** When the price was read (snapshot date offline). */
  quotedAt: z.string(),
  /** "online" or the snapshot it came from. */
  source: z.string(),
});

export type Offer = z.infer<typeof offerSchema>;

export const purchasePriceSchema = z.object({
  deviceId: z.string(),
  gpuName: z.string(),
  price: z.number().positive(),
  currency: z.literal("USD"),
  quotedAt: z.string(),
  source: z.string(),
});

export type PurchasePrice = z.infer<typeof purchasePriceSchema>;

// Provider GPU names -> catalog ids. Order matters: specific patterns before general ones.
const GPU_PATTERNS: Array<[RegExp, string | ((mem?: number) => string | undefined)]> = [
  // GH200 is a Grace-Hopper superchip (H100 96 GB), not an H200.
  [/gh200/, () => undefined],
  [/h200/, "h200-sxm-141gb"],
  [/h100.*nvl/, () => undefined],
  [/h100.*pcie/, "h100-pcie-80gb"],
  [/h100/, "h100-sxm-80gb"],
  [/a100.*pcie/, (m) => (m !== undefined && m < 60 ? undefined : "a100-pcie-80gb")],
  [/a100.*80|a100.*sxm4.*80/, "a100-sxm4-80gb"],
  [/a100/, (m) => (m !== undefined && m > 60 ? "a100-sxm4-80gb" : "a100-sxm4-40gb")],
  [/b200/, "b200-sxm"],
  [/l40s/, "l40s"],
  [/\bl40\b/, () => undefined],
  [/\bl4\b/, "l4"],
  [/a10g/, "a10g"],
  [/\ba10\b/, "a10"],
  [/\bt4\b/, "t4"],
  [/v100/, (m) => (m !== undefined && m >= 30 ? "v100-sxm2-32gb" : undefined)],
  [/\ba40\b/, "a40"],
  [/rtx ?6000 ?ada/, "rtx-6000-ada"],
  [/rtx a6000/, "rtx-a6000"],
  [/rtx 5090/, "rtx-5090"],
  [/rtx 4090/, "rtx-4090"],
  [/rtx 4080(?! super)/, "rtx-4080"],
  [/rtx 4070 ti(?! super)/, "rtx-4070-ti"],
  [/rtx 3090(?! ti)/, "rtx-3090"],
  [/rtx 3080(?! ti)/, (m) => (m === undefined || m <= 10 ? "rtx-3080-10gb" : undefined)],
  [/rtx 3060/, "rtx-3060-12gb"],
  [/mi300x/, "mi300x"],
  [/mi250x/, "mi250x"],
  [/mi250/, "mi250"],
  [/mi210/, "mi210"],
  [/7900 ?xtx/, "rx-7900-xtx"],
];

/**
 * Maps a provider's GPU name (and memory per GPU in GB, when known) to a catalog device id, or undefined when the
 * catalog has no such part (e.g. H100 NVL 94 GB, V100 16 GB).
 */
export function deviceIdForGpuName(name: string, memoryGb?: number): string | undefined {
  const n = name.toLowerCase().replace(/nvidia|geforce|tesla|amd|instinct|radeon/g, "").replace(/[-_]/g, " ").replace(/\s+/g, " ").trim();
  for (const [re, id] of GPU_PATTERNS) if (re.test(n)) return typeof id === "string" ? id : id(memoryGb);
  return undefined;
}

/** One offer per provider and instance type: the cheapest region, with how many regions offer it. */
export function cheapestPerInstance(offers: Offer[], spot: boolean): Array<Offer & { regions: number }> {
  const price = (o: Offer) => (spot ? (o.spotPerHour ?? o.onDemandPerHour) : o.onDemandPerHour) ?? Number.POSITIVE_INFINITY;
  const best = new Map<string, Offer & { regions: number }>();
  for (const o of offers) {
    const key = `${o.provider}|${o.offerId}|${o.gpuCount}`;
    const prev = best.get(key);
    if (!prev) best.set(key, { ...o, regions: 1 });
    else {
      prev.regions++;
      if (price(o) < price(prev)) best.set(key, { ...o, regions: prev.regions });
    }
  }
  return [...best.values()];
}

/** Hourly price of one GPU of an offer: on-demand, or spot (falling back to on-demand) when `spot`. */
export function perGpuHourly(o: Offer, spot = false): number | undefined {
  const v = spot ? (o.spotPerHour ?? o.onDemandPerHour) : o.onDemandPerHour;
  return v === undefined ? undefined : v / o.gpuCount;
}

export interface PriceBand {
  /** Median per-GPU hourly price of the distinct offers for this catalog device. */
  median: number;
  /** Quotes under this are flagged. */
  low: number;
  offers: number;
}

/**
 * The plausible band per catalog device (one GPU model, whoever sells it), from the quotes themselves: a quote under
 * a quarter of the median of the distinct offers for the same GPU and pricing (on-demand or spot) is flagged. Real
 * markets spread upward (a hyperscaler's on-demand is several times a marketplace's), so only the low side is
 * judged. Each instance type counts once, at its cheapest region (one hyperscaler type quoted in 20 regions must not
 * set the market). Needs 3 such offers: with fewer there is no median worth the name.
 */
export const BAND_LOW_FRACTION = 0.25;
const BAND_MIN_OFFERS = 3;

export function priceBands(offers: Offer[], spot = false): Map<string, PriceBand> {
  const byDevice = new Map<string, Map<string, number>>();
  for (const o of cheapestPerInstance(offers, spot)) {
    const v = perGpuHourly(o, spot);
    if (!o.deviceId || v === undefined || !(v > 0)) continue;
    const distinct = byDevice.get(o.deviceId) ?? byDevice.set(o.deviceId, new Map()).get(o.deviceId)!;
    distinct.set(`${o.provider}|${o.offerId}|${o.gpuCount}`, v);
  }
  const out = new Map<string, PriceBand>();
  for (const [id, m] of byDevice) {
    const xs = [...m.values()].sort((a, b) => a - b);
    if (xs.length < BAND_MIN_OFFERS) continue;
    const mid = xs.length >> 1;
    const median = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
    out.set(id, { median, low: median * BAND_LOW_FRACTION, offers: xs.length });
  }
  return out;
}

/** Why a quote is not ranked (implausibly low for its GPU, or no price at all), or undefined when it is plausible. */
export function priceFlag(o: Offer, bands: Map<string, PriceBand>, spot = false): string | undefined {
  const v = perGpuHourly(o, spot);
  if (v === undefined) return undefined;
  if (!(v > 0)) return "quoted at $0/h: a placeholder, not a price";
  const b = o.deviceId ? bands.get(o.deviceId) : undefined;
  if (b && v < b.low) return `$${v.toFixed(2)}/h per GPU is under ${BAND_LOW_FRACTION}× the median $${b.median.toFixed(2)}/h of ${b.offers} offers for ${o.deviceId}`;
  return undefined;
}

/** Offers split into the plausible ones and the flagged ones (with the reason); flagged offers are shown, never ranked. */
export function screenOffers(offers: Offer[], spot = false): { kept: Offer[]; flagged: Array<{ offer: Offer; reason: string }> } {
  const bands = priceBands(offers, spot);
  const kept: Offer[] = [];
  const flagged: Array<{ offer: Offer; reason: string }> = [];
  for (const o of offers) {
    const reason = priceFlag(o, bands, spot);
    if (reason) flagged.push({ offer: o, reason });
    else kept.push(o);
  }
  return { kept, flagged };
}

/** Identical offers (same provider, instance type, GPUs, prices, source and date) once, with the regions they are sold in. */
export function dedupeOffers(offers: Offer[]): Array<Offer & { count: number; regions: string[] }> {
  const out = new Map<string, Offer & { count: number; regions: string[] }>();
  for (const o of offers) {
    const key = [o.provider, o.offerId, o.gpuCount, o.onDemandPerHour, o.spotPerHour, o.source, o.quotedAt].join("|");
    const prev = out.get(key);
    if (prev) {
      prev.count++;
      if (o.region) prev.regions.push(o.region);
    } else out.set(key, { ...o, count: 1, regions: o.region ? [o.region] : [] });
  }
  return [...out.values()];
}

/** A quote's date and age, e.g. "quoted 2025-06-21, 530 days ago" (snapshot dates may be a month: "2025-06"). */
export function quoteAge(quotedAt: string, now = Date.now()): string {
  const t = Date.parse(quotedAt);
  if (!Number.isFinite(t)) return `quoted ${quotedAt}`;
  const days = Math.floor((now - t) / 86_400_000);
  const day = quotedAt.length <= 7 ? quotedAt : quotedAt.slice(0, 10);
  return `quoted ${day}, ${days <= 0 ? "today" : days === 1 ? "1 day ago" : `${days} days ago`}`;
}
