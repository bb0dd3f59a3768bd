// hwledger costs: daily or monthly billing per device, from busy time in the ledger and each device's price.
import type { Command } from "commander";
import { InputError } from "../../lib/calc/index.js";
import { bill } from "../../lib/fleet/billing.js";
import { ownedHourlyCost } from "../../lib/fleet/cost.js";
import type { HourlyCost } from "../../lib/fleet/cost.js";
import { catalogDevices } from "../../lib/fleet/devices.js";
import { deviceIdForGpuName } from "../../lib/fleet/offers.js";
import { printJson } from "../output.js";
import { strictNumber } from "./shared.js";

interface CostsFlags {
  ledger?: string;
  by: string;
  lifespanYears: string;
  utilization: string;
  electricity?: string;
  json?: boolean;
}

export function registerCosts(program: Command): void {
  program
    .command("costs")
    .description("billing per device per day or month: busy hours from the ledger × the device's hourly cost")
    .option("--ledger <dir>", "ledger directory")
    .option("--by <period>", "day | month", "day")
    .option("--lifespan-years <y>", "owned hardware depreciation period", "4")
    .option("--utilization <u>", "fraction of hours owned hardware does paid work", "0.5")
    .option("--electricity <usd-per-kwh>", "electricity price (default: median of the shipped country table)")
    .option("--json", "print one JSON document on stdout")
    .action(async (flags: CostsFlags) => {
      if (flags.by !== "day" && flags.by !== "month") throw new InputError(`--by must be day or month, got "${flags.by}"`);
      const { defaultLedgerDir, queryLedger } = await import("../ledger/index.js");
      const { usageFromLedger } = await import("../../loaders/billing.js");
      const { purchasePrices, defaultElectricityPerKwh } = await import("../../plugins/price-static/index.js");
      const dir = flags.ledger ?? defaultLedgerDir();
      const usage = await usageFromLedger(dir, flags.by);
      // Latest quoted on-demand price per device, and each fleet device's catalog id.
      const quotes = await queryLedger(dir, `select payload->>'device' as device, try_cast(payload->>'pricePerHour' as double) as p, payload->>'source' as src
        from events where type = 'price_quoted' and coalesce(payload->>'spot', 'false') = 'false'
        qualify row_number() over (partition by payload->>'device' order by ts desc) = 1`);
      const regs = await queryLedger(dir, `select device_id, payload->>'name' as name, try_cast(payload->>'memoryBytes' as double) as mem
        from events where type = 'device_registered' and device_id is not null
        qualify row_number() over (partition by device_id order by ts desc) = 1`);
      const catalogIdOf = new Map(regs.map((r) => [String(r.device_id), deviceIdForGpuName(String(r.name), Number(r.mem) / 1024 ** 3)]));
      const purchases = purchasePrices();
      const electricity = flags.electricity !== undefined ? strictNumber(flags.electricity, "--electricity") : defaultElectricityPerKwh();
      const hourlyFor = (device: string): HourlyCost | undefined => {
        const cat = catalogIdOf.get(device) ?? device;
        const q = quotes.find((x) => x.device === device || x.device === cat);
        if (q && typeof q.p === "number") return { perHour: q.p, basis: `quoted ${q.p}/h (${q.src})` };
        const p = purchases.find((x) => x.deviceId === cat);
        const d = catalogDevices().find((x) => x.id === cat);
        if (!p || !d?.tdpW) return undefined;
        return ownedHourlyCost({ purchasePrice: p.price, lifespanYears: strictNumber(flags.lifespanYears, "--lifespan-years"), powerWatts: d.tdpW, electricityPerKwh: electricity, utilization: strictNumber(flags.utilization, "--utilization") });
      };
      const rows = bill(usage, hourlyFor);
      if (flags.json) return printJson(rows);
      const lines = rows.map((r) => `${r.period}  ${r.device.padEnd(28)} ${String(r.jobs).padStart(4)} jobs ${r.busyHours.toFixed(2).padStart(8)} h  ${r.cost === null ? "cost n/a" : `$${r.cost.toFixed(2)}`}`);
      process.stdout.write((lines.length ? lines.join("\n") : "no jobs in the ledger") + "\n");
    });
}
