// RunPod GraphQL `gpuTypes` (per-GPU hourly prices: securePrice on-demand, secure/community spot).
import { deviceIdForGpuName } from "../../lib/fleet/offers.js";
import type { Offer } from "../../lib/fleet/offers.js";
import { num } from "../price-util.js";

interface GpuType {
  id: string;
  displayName?: string;
  memoryInGb?: number;
  securePrice?: number | null;
  communityPrice?: number | null;
  secureSpotPrice?: number | null;
  communitySpotPrice?: number | null;
  /** Whether RunPod rents this GPU on its secure / community cloud at all; a price on a tier it is not sold on is a
   * leftover (the 2025-06-21 snapshot quotes B200 community at $0.50/h with communityCloud: false). */
  secureCloud?: boolean;
  communityCloud?: boolean;
}

export function parseRunpodGpuTypes(json: unknown, quotedAt: string, source: string): Offer[] {
  if (!Array.isArray(json)) throw new Error("RunPod gpuTypes: expected an array");
  const offers: Offer[] = [];
  for (const t of json as GpuType[]) {
    if (!t || typeof t.id !== "string" || t.id === "unknown") continue;
    const mem = num(t.memoryInGb);
    for (const [tier, sold, onDemand, spot] of [
      ["secure", t.secureCloud, num(t.securePrice), num(t.secureSpotPrice)],
      ["community", t.communityCloud, num(t.communityPrice), num(t.communitySpotPrice)],
    ] as const) {
      // Only tiers RunPod sells (the flag false = not offered there; absent = older answers without it). A price of
      // 0 is RunPod's placeholder for "no price", not a free GPU.
      if (sold === false) continue;
      if (!onDemand && !spot) continue;
      offers.push({
        provider: "runpod",
        offerId: `${t.id} (${tier})`,
        gpuName: t.id,
        deviceId: deviceIdForGpuName(t.id, mem),
        gpuCount: 1,
        ...(mem ? { memoryBytesPerGpu: mem * 1024 ** 3 } : {}),
        ...(onDemand ? { onDemandPerHour: onDemand } : {}),
        ...(spot ? { spotPerHour: spot } : {}),
        region: tier,
        quotedAt,
        source,
      });
    }
  }
  return offers;
}
