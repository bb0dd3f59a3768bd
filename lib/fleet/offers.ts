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
