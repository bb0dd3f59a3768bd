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
}

export function parseRunpodGpuTypes(json: unknown, quotedAt: string, source: string): Offer[] {
  if (!Array.isArray(json)) throw new Error("RunPod gpuTypes: expected an array");
  const offers: Offer[] = [];
  for (const t of json as GpuType[]) {
    if (!t || typeof t.id !== "string" || t.id === "unknown") continue;
    const mem = num(t.memoryInGb);
    for (const [tier, onDemand, spot] of [
      ["secure", num(t.securePrice), num(t.secureSpotPrice)],
      ["community", num(t.communityPrice), num(t.communitySpotPrice)],
    ] as const) {
      if (onDemand === undefined && spot === undefined) continue;
      offers.push({
        provider: "runpod",
        offerId: `${t.id} (${tier})`,
        gpuName: t.id,
        deviceId: deviceIdForGpuName(t.id, mem),
        gpuCount: 1,
        ...(mem ? { memoryBytesPerGpu: mem * 1024 ** 3 } : {}),
        ...(onDemand !== undefined ? { onDemandPerHour: onDemand } : {}),
        ...(spot !== undefined ? { spotPerHour: spot } : {}),
        region: tier,
        quotedAt,
        source,
      });
    }
  }
  return offers;
}
