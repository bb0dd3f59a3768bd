// Vast.ai `search offers --raw` rows: dph_total is the whole offer's price per hour (all num_gpus GPUs).
import { deviceIdForGpuName } from "../../lib/fleet/offers.js";
import type { Offer } from "../../lib/fleet/offers.js";
import { num } from "../price-util.js";

interface VastOffer {
  id: number;
  gpu_name: string;
  num_gpus: number;
  gpu_ram?: number;
  dph_total?: number;
  min_bid?: number;
  geolocation?: string;
  start_date?: number;
}

export function parseVastOffers(json: unknown, quotedAt: string, source: string): Offer[] {
  const rows = Array.isArray(json) ? json : (json as { offers?: unknown[] })?.offers;
  if (!Array.isArray(rows)) throw new Error("Vast.ai offers: expected an array or {offers: [...]}");
  return (rows as VastOffer[])
    .filter((o) => o && typeof o.gpu_name === "string" && Number.isInteger(o.num_gpus) && o.num_gpus > 0)
    .map((o) => {
      const memGb = num(o.gpu_ram) !== undefined ? o.gpu_ram! / 1024 : undefined;
      const onDemand = num(o.dph_total);
      const spot = num(o.min_bid);
      return {
        provider: "vastai",
        offerId: String(o.id),
        gpuName: o.gpu_name,
        deviceId: deviceIdForGpuName(o.gpu_name, memGb),
        gpuCount: o.num_gpus,
        ...(memGb ? { memoryBytesPerGpu: o.gpu_ram! * 1024 ** 2 } : {}),
        ...(onDemand !== undefined ? { onDemandPerHour: onDemand } : {}),
        // Interruptible instances are bid; min_bid is the lowest accepted bid for the whole offer.
        ...(spot !== undefined ? { spotPerHour: spot } : {}),
        ...(o.geolocation ? { region: o.geolocation } : {}),
        quotedAt,
        source,
      };
    });
}
