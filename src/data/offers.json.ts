// Data loader: cloud offers and owned-hardware purchase prices from every price plugin's shipped snapshot
// (loadPrices offline, as `hwledger prices --json`), plus the default electricity price the CLI uses.
import { loadPrices } from "../../loaders/prices.js";
import { defaultElectricityPerKwh } from "../../plugins/price-static/index.js";

const prices = await loadPrices({});
process.stdout.write(JSON.stringify({ ...prices, electricityPerKwh: defaultElectricityPerKwh() }));
