// hwledger costs: daily or monthly billing per device, from busy time in the ledger and each device's price.
import type { Command } from "commander";
import { InputError } from "../../lib/calc/index.js";
import { bill } from "../../lib/fleet/billing.js";
import { billingHourly } from "../../lib/fleet/candidates.js";
import { catalogDevices } from "../../lib/fleet/devices.js";
import { printJson, printLines } from "../output.js";
import { flagValue, ledgerDirFlag, optFlag } from "./shared.js";

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
      const lifespanYears = flagValue("years", flags.lifespanYears, "--lifespan-years");
      const utilization = flagValue("fraction", flags.utilization, "--utilization");
      const electricity = optFlag("usdPerKwh", flags.electricity, "--electricity");
      const { usageFromLedger, billingPrices } = await import("../../loaders/billing.js");
      const { purchasePrices, defaultElectricityPerKwh } = await import("../../plugins/price-static/index.js");
      const dir = await ledgerDirFlag(flags.ledger);
      const usage = await usageFromLedger(dir, flags.by);
      const { quotes, catalogIds } = await billingPrices(dir);
      const hourlyFor = billingHourly(quotes, (d) => catalogIds[d] ?? undefined, {
        catalog: catalogDevices(),
        purchases: purchasePrices(),
        lifespanYears,
        utilization,
        electricityPerKwh: electricity ?? defaultElectricityPerKwh(),
      });
      const rows = bill(usage, hourlyFor);
      if (flags.json) return printJson(rows);
      const lines = rows.map((r) => `${r.period}  ${r.device.padEnd(28)} ${String(r.jobs).padStart(4)} jobs ${r.busyHours.toFixed(2).padStart(8)} h  ${r.cost === null ? "cost n/a" : `$${r.cost.toFixed(2)}`}`);
      printLines(lines.length ? lines : ["no jobs in the ledger"]);
    });
}
