// Data loader: the ledger's events as Arrow IPC (stream format) for DuckDB in the browser (/sql). The payload
// stays as JSON text; the fields queries need most are also flattened into typed columns (DuckDB-wasm here has
// no json extension: it would be fetched from the network). No ledger -> an empty table with the same columns.
import { existsSync } from "node:fs";
import { Float64, Table, Utf8, tableToIPC, vectorFromArray } from "apache-arrow";
import type { Vector } from "apache-arrow";
import { defaultLedgerDir, queryLedger } from "../../lib/ledger/index.js";

const TEXT = ["id", "ts", "host", "device_id", "type", "job_id", "engine", "model", "probe", "payload"] as const;
const NUM: Record<string, string> = {
  memory_used_bytes: "memoryUsedBytes",
  memory_total_bytes: "memoryTotalBytes",
  memory_bytes: "memoryBytes",
  utilization_pct: "utilizationPct",
  power_w: "powerW",
  temperature_c: "temperatureC",
  duration_s: "durationS",
  generated_tokens: "generatedTokens",
  amount: "amount",
  price_per_hour: "pricePerHour",
};

const ledger = defaultLedgerDir();
let rows: Record<string, unknown>[] = [];
if (existsSync(ledger)) {
  rows = await queryLedger(
    ledger,
    `select id, strftime(ts::timestamp, '%Y-%m-%dT%H:%M:%S.%gZ') as ts, host, device_id, type,
       payload->>'jobId' as job_id, payload->>'engine' as engine, payload->>'model' as model, payload->>'probe' as probe,
       ${Object.entries(NUM).map(([c, f]) => `try_cast(payload->>'${f}' as double) as ${c}`).join(", ")},
       payload::varchar as payload
     from events order by ts, id`,
  );
}
const columns: Record<string, Vector<Utf8> | Vector<Float64>> = {};
for (const c of TEXT) columns[c] = vectorFromArray(rows.map((r) => (r[c] === null || r[c] === undefined ? null : typeof r[c] === "string" ? r[c] : JSON.stringify(r[c]))), new Utf8());
for (const c of Object.keys(NUM)) columns[c] = vectorFromArray(rows.map((r) => (typeof r[c] === "number" ? r[c] : null)), new Float64());
process.stdout.write(tableToIPC(new Table(columns), "stream"));
