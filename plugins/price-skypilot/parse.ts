// SkyPilot catalog vms.csv (catalogs/v7/<cloud>/vms.csv): one row per instance type and zone. Column order differs
// per cloud, so rows are read by header name. GCP lists GPUs as separate accelerator rows (empty InstanceType)
// whose price is added to a host VM (sky/catalog/gcp_catalog.py); the A2/A3 host for n GPUs is a2-highgpu-<n>g /
// a3-highgpu-<n>g, added when the catalog has it in the same zone.
import { deviceIdForGpuName } from "../../lib/fleet/offers.js";
import type { Offer } from "../../lib/fleet/offers.js";
import { num, parseCsv } from "../price-util.js";

/** Memory per GPU in MiB from GpuInfo ("{'Gpus': [{… 'MemoryInfo': {'SizeInMiB': 81920}}] …}"). */
function memoryMibPerGpu(gpuInfo: string): number | undefined {
  const m = /'SizeInMiB':\s*(\d+)/.exec(gpuInfo);
  return m ? Number(m[1]) : undefined;
}

const GCP_HOST: Record<string, string> = { A100: "a2-highgpu", "A100-80GB": "a2-ultragpu", H100: "a3-highgpu", H200: "a3-ultragpu" };

export function parseSkypilotCsv(text: string, cloud: string, quotedAt: string, source: string): Offer[] {
  const rows = parseCsv(text);
  const hostPrice = new Map<string, { price?: number; spot?: number }>();
  for (const r of rows) if (r.InstanceType && !r.AcceleratorName) hostPrice.set(`${r.InstanceType}@${r.AvailabilityZone || r.Region}`, { price: num(r.Price), spot: num(r.SpotPrice) });
  // One offer per instance type (or GPU×count on GCP) and region: the cheapest zone.
  const byKey = new Map<string, Offer>();
  for (const r of rows) {
    const gpu = r.AcceleratorName;
    const count = num(r.AcceleratorCount);
    if (!gpu || !count) continue;
    let price = num(r.Price);
    let spot = num(r.SpotPrice);
    let offerId = r.InstanceType;
    if (!r.InstanceType) {
      const host = GCP_HOST[gpu] ? `${GCP_HOST[gpu]}-${count}g` : undefined;
      const h = host ? hostPrice.get(`${host}@${r.AvailabilityZone || r.Region}`) : undefined;
      offerId = h ? `${host} + ${count}x ${gpu}` : `${count}x ${gpu} (GPU only; host VM extra)`;
      if (h) {
        price = price !== undefined && h.price !== undefined ? price + h.price : undefined;
        spot = spot !== undefined && h.spot !== undefined ? spot + h.spot : undefined;
      }
    }
    if (price === undefined && spot === undefined) continue;
    const mib = memoryMibPerGpu(r.GpuInfo ?? "");
    const key = `${offerId}@${r.Region}`;
    const prev = byKey.get(key);
    const offer: Offer = {
      provider: cloud,
      offerId,
      gpuName: gpu,
      deviceId: deviceIdForGpuName(gpu, mib ? mib / 1024 : undefined),
      gpuCount: count,
      ...(mib ? { memoryBytesPerGpu: mib * 1024 ** 2 } : {}),
      ...(price !== undefined ? { onDemandPerHour: price } : {}),
      ...(spot !== undefined ? { spotPerHour: spot } : {}),
      region: r.Region,
      quotedAt,
      source,
    };
    if (!prev) byKey.set(key, offer);
    else {
      if (offer.onDemandPerHour !== undefined && (prev.onDemandPerHour === undefined || offer.onDemandPerHour < prev.onDemandPerHour)) prev.onDemandPerHour = offer.onDemandPerHour;
      if (offer.spotPerHour !== undefined && (prev.spotPerHour === undefined || offer.spotPerHour < prev.spotPerHour)) prev.spotPerHour = offer.spotPerHour;
    }
  }
  return [...byKey.values()];
}
