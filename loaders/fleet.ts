// Fleet devices from the ledger (latest device_registered per device), resolved against the device catalog for
// the figures a probe cannot read (bandwidth, FLOP/s).
import { existsSync } from "node:fs";
import { placementDevice } from "../lib/fleet/caps.js";
import { gpuMemoryLimit } from "../lib/fleet/device-class.js";
import type { PlacementDevice } from "../lib/fleet/dispatch.js";
import { catalogDevices, shortDeviceId } from "../lib/fleet/devices.js";
import { deviceIdForGpuName } from "../lib/fleet/offers.js";
import { payloadOf, typeIs } from "../lib/ledger/fields.js";

export interface FleetDevice extends PlacementDevice {
  /** Short id under the catalog's contract (shortDeviceId). */
  id: string;
  /** The device_id the ledger records (e.g. "desk/cpu", a GPU UUID). */
  deviceId: string;
  host: string;
  catalogId?: string;
  transport?: string;
}

/** SQL relation: each device's latest device_registered event (device_id, host, ts, payload). */
export const LATEST_REGISTRATIONS = `(select device_id, host, ts, payload from events where ${typeIs("device_registered")} and device_id is not null
  qualify row_number() over (partition by device_id order by ts desc) = 1)`;

export async function fleetDevices(ledgerDir: string): Promise<FleetDevice[]> {
  if (!existsSync(ledgerDir)) return [];
  const { queryLedger } = await import("../lib/ledger/query.js");
  const rows = await queryLedger(ledgerDir, `select device_id, host, payload from ${LATEST_REGISTRATIONS} order by device_id`);
  const catalog = catalogDevices();
  const taken = new Set(catalog.map((d) => d.id));
  const out: FleetDevice[] = [];
  for (const r of rows) {
    const p = payloadOf("device_registered", r.payload);
    if (!p) continue;
    const catalogId = deviceIdForGpuName(p.name, p.memoryBytes / 1024 ** 3);
    const cat = catalog.find((d) => d.id === catalogId);
    const base = cat ? placementDevice(cat) : { bandwidthBytesPerSecond: 0, deviceClass: "other" as const };
    const id = shortDeviceId(String(r.device_id), taken);
    taken.add(id);
    out.push({
      ...base,
      id,
      deviceId: String(r.device_id),
      name: p.name,
      // A probed Mac reports its RAM: the GPU may hold its working set of it (device-class.ts metalWorkingSet).
      memoryBytes: cat ? gpuMemoryLimit(cat.category, p.memoryBytes).bytes : p.memoryBytes,
      host: String(r.host),
      ...(catalogId ? { catalogId } : {}),
      ...(p.transport ? { transport: p.transport } : {}),
    });
  }
  return out;
}
