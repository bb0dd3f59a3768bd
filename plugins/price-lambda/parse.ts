// Lambda Cloud `GET /api/v1/instance-types`: {data: {<name>: {instance_type: {name, price_cents_per_hour,
// specs: {gpus}, gpu_description}, regions_with_capacity_available: [{name}]}}} (Lambda Cloud API docs).
import { deviceIdForGpuName } from "../../lib/fleet/offers.js";
import type { Offer } from "../../lib/fleet/offers.js";

interface LambdaType {
  instance_type?: { name?: string; price_cents_per_hour?: number; specs?: { gpus?: number }; gpu_description?: string };
  regions_with_capacity_available?: Array<{ name?: string }>;
}

export function parseLambdaInstanceTypes(json: unknown, quotedAt: string, source: string): Offer[] {
  const data = (json as { data?: Record<string, LambdaType> })?.data;
  if (!data || typeof data !== "object") throw new Error("Lambda instance-types: expected {data: {...}}");
  const offers: Offer[] = [];
  for (const [name, t] of Object.entries(data)) {
    const it = t.instance_type;
    const gpus = it?.specs?.gpus ?? 0;
    if (!it || !gpus || typeof it.price_cents_per_hour !== "number") continue;
    const desc = it.gpu_description ?? name;
    const mem = /(\d+)\s*GB/i.exec(desc);
    offers.push({
      provider: "lambda",
      offerId: it.name ?? name,
      gpuName: desc,
      deviceId: deviceIdForGpuName(desc, mem ? Number(mem[1]) : undefined),
      gpuCount: gpus,
      onDemandPerHour: it.price_cents_per_hour / 100,
      ...(t.regions_with_capacity_available?.[0]?.name ? { region: t.regions_with_capacity_available[0].name } : {}),
      quotedAt,
      source,
    });
  }
  return offers;
}
