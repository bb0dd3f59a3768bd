// Data loader: what `hwledger costs` prices — busy time per device and day from the ledger, the latest quoted
// on-demand price per device and each fleet device's catalog id — so the costs page can bill with the same
// lib/fleet functions while its sliders change the owned-hardware assumptions.
import { existsSync } from "node:fs";
import { defaultLedgerDir } from "../../lib/ledger/index.js";
import { billingPrices, usageFromLedger } from "../../loaders/billing.js";

const ledger = defaultLedgerDir();
const out: Record<string, unknown> = { ledger, exists: existsSync(ledger), usage: [], quotes: [], catalogIds: {}, error: null };
if (out.exists) {
  try {
    out.usage = await usageFromLedger(ledger, "day");
    // The same prices `hwledger costs` uses (loaders/billing.ts).
    Object.assign(out, await billingPrices(ledger));
  } catch (e) {
    out.error = (e as Error).message.split("\n")[0];
  }
}
process.stdout.write(JSON.stringify(out));
