// Data loader: what `hwledger costs` prices — busy time per device and day from the ledger, the latest quoted
// on-demand price per device and each fleet device's catalog id — so the costs page can bill with the same
// lib/fleet functions while its sliders change the owned-hardware assumptions.
import { existsSync } from "node:fs";
import { defaultLedgerDir, ledgerLabel, withLedgerLabel } from "../../lib/ledger/index.js";
import { billingPrices, usageFromLedger } from "../../loaders/billing.js";

const ledger = defaultLedgerDir();
// The pages name the ledger by its label, never by this machine's path.
const out: Record<string, unknown> = { ledger: ledgerLabel(ledger), exists: existsSync(ledger), usage: [], quotes: [], catalogIds: {}, error: null };
if (out.exists) {
  try {
    out.usage = await usageFromLedger(ledger, "day");
    // The same prices `hwledger costs` uses (loaders/billing.ts).
    Object.assign(out, await billingPrices(ledger));
  } catch (e) {
    out.error = withLedgerLabel((e as Error).message.split("\n")[0], ledger);
  }
}
process.stdout.write(JSON.stringify(out));
