// Where the candidates of a dispatch and the hourly price of a device come from — one place for the CLI
// (`hwledger dispatch`, `hwledger costs`) and the pages (/dispatch, /costs).
import type { Deployment, DeviceClass } from "../calc/index.js";
import { placementDevice } from "./caps.js";
import { formatPerHour, ownedHourlyCost } from "./cost.js";
import type { HourlyCost } from "./cost.js";
import type { Device } from "./devices.js";
import type { DispatchCandidate, PlacementDevice } from "./dispatch.js";
import { defaultEngineFor } from "./engine.js";
import type { PlacementEngine } from "./engine.js";
import { cheapestPerInstance, quoteAge, screenOffers } from "./offers.js";
import type { Offer, PurchasePrice } from "./offers.js";

/** What owned hardware costs are computed from. */
export interface OwnedTerms {
  catalog: Array<Pick<Device, "id" | "tdpW">>;
  purchases: PurchasePrice[];
  lifespanYears: number;
  utilization: number;
  electricityPerKwh: number;
}

/** Owned hourly cost of a catalog device: its purchase price (snapshot) and TDP; undefined when either is unknown. */
export function ownedPrice(catalogId: string | undefined, t: OwnedTerms): (HourlyCost & { purchase: PurchasePrice }) | undefined {
  const p = t.purchases.find((x) => x.deviceId === catalogId);
  const d = t.catalog.find((x) => x.id === catalogId);
  if (!p || !d?.tdpW) return undefined;
  return { ...ownedHourlyCost({ purchasePrice: p.price, lifespanYears: t.lifespanYears, powerWatts: d.tdpW, electricityPerKwh: t.electricityPerKwh, utilization: t.utilization }), purchase: p };
}

export interface CandidateInputs extends Omit<OwnedTerms, "catalog"> {
  catalog: Device[];
  fleet: Array<PlacementDevice & { host: string; catalogId?: string }>;
  offers: Offer[];
  base: Deployment;
  /** The engines candidates may be planned with (each device class's default is among them). */
  engines: readonly PlacementEngine[];
  /** Plan every candidate with base.engine instead of each device class's default engine. */
  fixedEngine: boolean;
  spot: boolean;
}

/**
 * Fleet devices from the ledger, every catalog device, and the cheapest region per cloud instance type; owned
 * hardware is priced with ownedHourlyCost, offers at their on-demand (or spot) rate.
 */
export function dispatchCandidates(i: CandidateInputs): DispatchCandidate[] {
  const owned = (catalogId: string | undefined) => {
    const h = ownedPrice(catalogId, i);
    return h ? { perHour: h.perHour, priceBasis: `${h.basis} (purchase ${h.purchase.source}, ${quoteAge(h.purchase.quotedAt)})` } : {};
  };
  const engineFor = (cls: DeviceClass) => (i.fixedEngine ? i.base.engine : defaultEngineFor(i.engines, cls, i.base.weights).id);
  const out: DispatchCandidate[] = [];
  for (const f of i.fleet) out.push({ id: `fleet:${f.host}/${f.id}`, source: "fleet", device: f, count: 1, engine: engineFor(f.deviceClass), ...owned(f.catalogId) });
  for (const d of i.catalog) {
    const p = placementDevice(d);
    out.push({ id: `catalog:${d.id}`, source: "catalog", device: p, count: 1, engine: engineFor(p.deviceClass), ...owned(d.id) });
  }
  // Quotes implausibly low for their GPU are shown by the pages and `prices`, never ranked (offers.ts screenOffers).
  for (const o of cheapestPerInstance(screenOffers(i.offers, i.spot).kept, i.spot)) {
    const d = i.catalog.find((x) => x.id === o.deviceId);
    const perHour = i.spot ? (o.spotPerHour ?? o.onDemandPerHour) : o.onDemandPerHour;
    if (!d || perHour === undefined) continue;
    const p = placementDevice(d);
    const device = o.memoryBytesPerGpu ? { ...p, memoryBytes: Math.min(p.memoryBytes, o.memoryBytesPerGpu) } : p;
    out.push({
      id: `offer:${o.provider}/${o.offerId}${o.region ? `@${o.region}` : ""}${o.regions > 1 ? ` (+${o.regions - 1} regions)` : ""}`,
      source: "offer",
      device,
      count: o.gpuCount,
      provider: o.provider,
      engine: engineFor(p.deviceClass),
      perHour,
      priceBasis: `${o.provider} ${i.spot && o.spotPerHour !== undefined ? "spot" : "on-demand"} ${formatPerHour(perHour)} for ${o.gpuCount} GPU(s), ${o.source}, ${quoteAge(o.quotedAt)}`,
    });
  }
  return out;
}

/** A quoted price from the ledger (latest on-demand price_quoted per device). */
export interface Quote {
  device: string;
  perHour: number;
  source: string;
}

/** The hourly price billing uses for a ledger device: its latest quote, else its owned cost. */
export function billingHourly(quotes: Quote[], catalogIdOf: (device: string) => string | undefined, t: OwnedTerms): (device: string) => HourlyCost | undefined {
  return (device) => {
    const cat = catalogIdOf(device) ?? device;
    const q = quotes.find((x) => x.device === device || x.device === cat);
    if (q) return { perHour: q.perHour, basis: `quoted ${formatPerHour(q.perHour)} (${q.source})` };
    return ownedPrice(cat, t);
  };
}
