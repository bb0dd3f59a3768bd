// Static price catalog: purchase prices of owned hardware (Amazon Buy Box history, latest point) and business
// electricity prices by country. No network: this is the floor every cost figure can stand on.
import { readFileSync } from "node:fs";
import type { PurchasePrice } from "../../lib/fleet/offers.js";
import type { PriceManifest } from "../price-util.js";
import { parseCsv } from "../price-util.js";

// United-Compute/gpu-price-tracker data/*.json@23c5fab9 (SOURCES.txt): {gpu_name, prices: {timestamp: USD}}.
const PURCHASE_FILES: Record<string, string> = {
  "h100-pcie-80gb": "purchase-h100-pcie-80gb.json",
  l4: "purchase-l4.json",
  l40s: "purchase-l40s.json",
  "rtx-6000-ada": "purchase-rtx6000ada.json",
};

export function purchasePrices(): PurchasePrice[] {
  return Object.entries(PURCHASE_FILES).map(([deviceId, file]) => {
    const j = JSON.parse(readFileSync(new URL(`./${file}`, import.meta.url), "utf8")) as { gpu_name: string; prices: Record<string, number> };
    const latest = Object.keys(j.prices).sort().at(-1)!;
    return { deviceId, gpuName: j.gpu_name, price: j.prices[latest], currency: "USD" as const, quotedAt: latest, source: `Amazon Buy Box via United-Compute/gpu-price-tracker ${file.replace("purchase-", "")}` };
  });
}

/** Business electricity USD/kWh by country, June 2019 (truggles/SEM-1.2 from globalpetrolprices.com). */
export function electricityPrices(): Record<string, number> {
  const rows = parseCsv(readFileSync(new URL("./electricity-2019.csv", import.meta.url), "utf8").replace(/^#.*\r?\n/gm, ""));
  return Object.fromEntries(rows.map((r) => [r.Country, Number(r["Elec Price (USD/kWh)"])]).filter(([, v]) => Number.isFinite(v as number)));
}

/** Default electricity price when the user gives none: the median country in the table. */
export function defaultElectricityPerKwh(): number {
  const v = Object.values(electricityPrices()).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
}

export const manifest: PriceManifest = {
  kind: "price",
  name: "price-static",
  version: "1.0.0",
  description: "Shipped purchase prices and electricity tariffs for owned hardware",
  provider: "static",
  snapshot: () => [],
  purchasePrices,
};
