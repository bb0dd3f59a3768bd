// Data loader: what `hwledger costs` prices — busy time per device and day from the ledger, the latest quoted
// on-demand price per device and each fleet device's catalog id — so the costs page can bill with the same
// lib/fleet functions while its sliders change the owned-hardware assumptions.
import { existsSync } from "node:fs";
import { defaultLedgerDir, queryLedger } from "../../collector/ledger/index.js";
import { deviceIdForGpuName } from "../../lib/fleet/offers.js";
import { usageFromLedger } from "../../loaders/billing.js";

const ledger = defaultLedgerDir();
const out: Record<string, unknown> = { ledger, exists: existsSync(ledger), usage: [], quotes: [], catalogIds: {}, error: null };
if (out.exists) {
  try {
    out.usage = await usageFromLedger(ledger, "day");
    // Same queries as collector/commands/costs.ts.
    out.quotes = await queryLedger(ledger, `select payload->>'device' as device, try_cast(payload->>'pricePerHour' as double) as p, payload->>'source' as src
      from events where type = 'price_quoted' and coalesce(payload->>'spot', 'false') = 'false'
      qualify row_number() over (partition by payload->>'device' order by ts desc) = 1`);
    const regs = await queryLedger(ledger, `select device_id, payload->>'name' as name, try_cast(payload->>'memoryBytes' as double) as mem
      from events where type = 'device_registered' and device_id is not null
      qualify row_number() over (partition by device_id order by ts desc) = 1`);
    out.catalogIds = Object.fromEntries(regs.map((r) => [String(r.device_id), deviceIdForGpuName(String(r.name), Number(r.mem) / 1024 ** 3) ?? null]));
  } catch (e) {
    out.error = (e as Error).message.split("\n")[0];
  }
}
process.stdout.write(JSON.stringify(out));
