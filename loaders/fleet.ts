// Fleet devices from the ledger (latest device_registered per device), resolved against the device catalog for
// the figures a probe cannot read (bandwidth, FLOP/s).
import { existsSync } from "node:fs";
import { placementDevice } from "../lib/fleet/caps.js";
import type { PlacementDevice } from "../lib/fleet/dispatch.js";
import { catalogDevices } from "../lib/fleet/devices.js";
import { deviceIdForGpuName } from "../lib/fleet/offers.js";

export interface FleetDevice extends PlacementDevice {
  host: string;
  catalogId?: string;
  transport?: string;
}

export async function fleetDevices(ledgerDir: string): Promise<FleetDevice[]> {
  if (!existsSync(ledgerDir)) return [];
  const { queryLedger } = await import("../lib/ledger/index.js");
  const rows = await queryLedger(
    ledgerDir,
    `select device_id, host, payload from events where type = 'device_registered' and device_id is not null
     qualify row_number() over (partition by device_id order by ts desc) = 1 order by device_id`,
  );
  const catalog = catalogDevices();
  return rows.map((r) => {
    const p = (typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload) as { name: string; memoryBytes: number; transport?: string };
    const catalogId = deviceIdForGpuName(p.name, p.memoryBytes / 1024 ** 3);
    const cat = catalog.find((d) => d.id === catalogId);
    const base = cat ? placementDevice(cat) : { bandwidthBytesPerSecond: 0, deviceClass: "other" as const };
    return { ...base, id: String(r.device_id), name: p.name, memoryBytes: p.memoryBytes, host: String(r.host), ...(catalogId ? { catalogId } : {}), ...(p.transport ? { transport: p.transport } : {}) };
  });
}
