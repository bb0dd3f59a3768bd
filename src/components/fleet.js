// Helpers for the fleet pages (/fleet, /sql, /costs, /dispatch, /split): URL state, the ledger in DuckDB-wasm,
// and the same candidate/price wiring as the CLI commands, so a page's figures equal the CLI's for the same
// inputs. The math itself lives in lib/fleet and lib/calc.
import * as duckdb from "@duckdb/duckdb-wasm";
import {placementDevice} from "../lib/fleet/caps.js";
import {ownedHourlyCost} from "../lib/fleet/cost.js";
import {defaultEngineFor} from "../lib/fleet/dispatch.js";
import {cheapestPerInstance} from "../lib/fleet/offers.js";

const GIB = 1024 ** 3;
export const formatGiB = (b) => (b === null || b === undefined || !Number.isFinite(b) ? "–" : `${(b / GIB).toFixed(2)} GiB`);
export const formatMoney = (v, digits = 2) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : `$${v.toFixed(digits)}`);
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

/**
 * Candidates exactly as `hwledger dispatch` builds them (collector/commands/dispatch.ts): fleet devices from the
 * ledger, every catalog device, and the cheapest region per cloud instance type; owned hardware priced with
 * ownedHourlyCost from the purchase-price snapshot and the device's TDP.
 */
export function dispatchCandidates({catalog, fleet, prices, base, engine, spot, lifespanYears, utilization, electricityPerKwh}) {
  const owned = (catalogId) => {
    const p = prices.purchases.find((x) => x.deviceId === catalogId);
    const d = catalog.find((x) => x.id === catalogId);
    if (!p || !d?.tdpW) return {};
    const h = ownedHourlyCost({purchasePrice: p.price, lifespanYears, powerWatts: d.tdpW, electricityPerKwh, utilization});
    return {perHour: h.perHour, priceBasis: `${h.basis} (purchase ${p.source} ${p.quotedAt.slice(0, 10)})`};
  };
  const engineFor = (cls) => (engine ? base.engine : defaultEngineFor(cls, base.weights));
  const out = [];
  for (const f of fleet) out.push({id: `fleet:${f.host}/${f.id}`, source: "fleet", device: f, count: 1, engine: engineFor(f.deviceClass), ...owned(f.catalogId)});
  for (const d of catalog) {
    const p = placementDevice(d);
    out.push({id: `catalog:${d.id}`, source: "catalog", device: p, count: 1, engine: engineFor(p.deviceClass), ...owned(d.id)});
  }
  for (const o of cheapestPerInstance(prices.offers, !!spot)) {
    const d = catalog.find((x) => x.id === o.deviceId);
    const perHour = spot ? (o.spotPerHour ?? o.onDemandPerHour) : o.onDemandPerHour;
    if (!d || perHour === undefined) continue;
    const p = placementDevice(d);
    const device = o.memoryBytesPerGpu ? {...p, memoryBytes: Math.min(p.memoryBytes, o.memoryBytesPerGpu)} : p;
    out.push({
      id: `offer:${o.provider}/${o.offerId}${o.region ? `@${o.region}` : ""}${o.regions > 1 ? ` (+${o.regions - 1} regions)` : ""}`,
      source: "offer",
      device,
      count: o.gpuCount,
      provider: o.provider,
      engine: engineFor(p.deviceClass),
      perHour,
      priceBasis: `${o.provider} ${spot && o.spotPerHour !== undefined ? "spot" : "on-demand"} ${perHour}/h for ${o.gpuCount} GPU(s), ${o.source} ${o.quotedAt.slice(0, 10)}`,
    });
  }
  return out;
}

/** The hourly price of a ledger device, as `hwledger costs` finds it: a quoted price, else owned cost. */
export function billingHourly({billing, catalog, purchases, lifespanYears, utilization, electricityPerKwh}) {
  return (device) => {
    const cat = billing.catalogIds[device] ?? device;
    const q = billing.quotes.find((x) => x.device === device || x.device === cat);
    if (q && typeof q.p === "number") return {perHour: q.p, basis: `quoted ${q.p}/h (${q.src})`};
    const p = purchases.find((x) => x.deviceId === cat);
    const d = catalog.find((x) => x.id === cat);
    if (!p || !d?.tdpW) return undefined;
    return ownedHourlyCost({purchasePrice: p.price, lifespanYears, powerWatts: d.tdpW, electricityPerKwh, utilization});
  };
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
