// Helpers for the fleet pages (/fleet, /sql, /costs, /dispatch, /split): URL state, the ledger in DuckDB-wasm,
// and the same candidate/price wiring as the CLI commands, so a page's figures equal the CLI's for the same
// inputs. The math itself lives in lib/fleet and lib/calc.
import * as duckdb from "@duckdb/duckdb-wasm";
import {billingHourly as hourlyFor, dispatchCandidates as candidatesFor} from "../lib/fleet/candidates.js";
import {formatUsd} from "../lib/fleet/cost.js";

const GIB = 1024 ** 3;
export const formatGiB = (b) => (b === null || b === undefined || !Number.isFinite(b) ? "–" : `${(b / GIB).toFixed(2)} GiB`);
// Money as lib/fleet/cost.ts formats it for the CLI ("$0.11", "$0.0045").
export const formatMoney = (v) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : formatUsd(v));
export const pctError = (predicted, actual) => (typeof predicted === "number" && typeof actual === "number" && actual !== 0 ? ((predicted - actual) / actual) * 100 : null);
export const errorMessage = (e) => String(e?.message ?? e).split("\n")[0];

/** Reads the page's state from the address bar: each key's default decides its type (number, string, list). */
export function readState(defaults, search = location.search) {
  const q = new URLSearchParams(search);
  const out = {};
  for (const [k, d] of Object.entries(defaults)) {
    const v = q.get(k);
    if (v === null || v === "") out[k] = d;
    else if (Array.isArray(d)) out[k] = v.split(",").filter(Boolean);
    else if (typeof d === "number") out[k] = Number.isFinite(Number(v)) ? Number(v) : d;
    else if (typeof d === "boolean") out[k] = v === "1" || v === "true";
    else out[k] = v;
  }
  return out;
}

/** Writes the state into the address bar (replaceState: no history entry per slider step). */
export function writeState(state) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) {
    if (v === undefined || v === null || v === "") continue;
    q.set(k, Array.isArray(v) ? v.join(",") : typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  }
  const url = `${location.pathname}?${q.toString().replace(/%2C/g, ",").replace(/%2F/g, "/")}`;
  history.replaceState(history.state, "", url);
  return url;
}

/** Candidates exactly as `hwledger dispatch` builds them: lib/fleet/candidates.ts, shared with the CLI. */
export function dispatchCandidates({catalog, fleet, prices, base, engine, engines, spot, lifespanYears, utilization, electricityPerKwh}) {
  return candidatesFor({catalog, fleet, offers: prices.offers, purchases: prices.purchases, base, engines, fixedEngine: !!engine, spot: !!spot, lifespanYears, utilization, electricityPerKwh});
}

/** The hourly price of a ledger device, as `hwledger costs` finds it (lib/fleet/candidates.ts billingHourly). */
export function billingHourly({billing, catalog, purchases, lifespanYears, utilization, electricityPerKwh}) {
  return hourlyFor(billing.quotes, (d) => billing.catalogIds[d] ?? undefined, {catalog, purchases, lifespanYears, utilization, electricityPerKwh});
}

/** DuckDB-wasm (eh bundle, from node_modules) in a module worker, with the ledger's events loaded as a table. */
export async function ledgerDatabase(arrowUrl) {
  const wasm = import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-eh.wasm");
  const worker = import.meta.resolve("@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js");
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), new Worker(new URL(worker, location.href), {type: "module"}));
  await db.instantiate(new URL(wasm, location.href).href);
  const conn = await db.connect();
  const bytes = new Uint8Array(await (await fetch(arrowUrl)).arrayBuffer());
  await conn.insertArrowFromIPCStream(bytes, {name: "events_raw", create: true});
  await conn.query("CREATE VIEW events AS SELECT * REPLACE (ts::TIMESTAMP AS ts) FROM events_raw");
  return {
    /** Runs SQL; rows are plain objects (BIGINT -> Number when exact, else string; dates as Date). */
    async query(sql) {
      const t = await conn.query(sql);
      const columns = t.schema.fields.map((f) => ({name: f.name, type: String(f.type)}));
      const rows = t.toArray().map((r) => {
        const o = {};
        for (const c of columns) o[c.name] = plain(r[c.name], c.type);
        return o;
      });
      return {columns, rows};
    },
  };
}

function plain(v, type) {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v !== null && v !== undefined && /^Timestamp/.test(type)) return new Date(Number(v));
  if (v !== null && typeof v === "object" && typeof v.toJSON === "function") return JSON.stringify(v.toJSON());
  return v;
}
