// Data loader: the ledger's events as Arrow IPC (stream format) for DuckDB in the browser (/sql). The payload
// stays as JSON text; the fields queries need most are also flattened into typed columns (DuckDB-wasm here has
// no json extension: it would be fetched from the network). No ledger -> an empty table with the same columns.
import { existsSync } from "node:fs";
import { Float64, Table, Utf8, tableToIPC, vectorFromArray } from "apache-arrow";
import type { Vector } from "apache-arrow";
import { defaultLedgerDir, field, isoTs, queryLedger } from "../../lib/ledger/index.js";
import type { PayloadField } from "../../lib/ledger/index.js";

// Flattened columns: one payload field each (the same JSON key in every event type that has it).
const FLAT: Record<string, PayloadField> = {
  job_id: field("job_planned", "jobId"),
  engine: field("job_planned", "engine"),
  model: field("job_planned", "model"),
  probe: field("device_probed", "probe"),
  memory_used_bytes: field("telemetry_sample", "memoryUsedBytes"),
  memory_total_bytes: field("telemetry_sample", "memoryTotalBytes"),
  memory_bytes: field("device_registered", "memoryBytes"),
  utilization_pct: field("telemetry_sample", "utilizationPct"),
  power_w: field("telemetry_sample", "powerW"),
  temperature_c: field("telemetry_sample", "temperatureC"),
  duration_s: field("job_completed", "durationS"),
  generated_tokens: field("job_completed", "generatedTokens"),
  amount: field("cost_recorded", "amount"),
  price_per_hour: field("price_quoted", "pricePerHour"),
};
const NUM = Object.keys(FLAT).filter((c) => FLAT[c].type === "DOUBLE" || FLAT[c].type === "BIGINT");
const TEXT = ["id", "ts", "host", "device_id", "type", ...Object.keys(FLAT).filter((c) => !NUM.includes(c)), "payload"];

const ledger = defaultLedgerDir();
let rows: Record<string, unknown>[] = [];
if (existsSync(ledger)) {
  rows = await queryLedger(
    ledger,
    `select id, ${isoTs()} as ts, host, device_id, type,
       ${Object.entries(FLAT).map(([c, f]) => `${NUM.includes(c) ? `${f.sql}::DOUBLE` : f.sql} as ${c}`).join(", ")},
       payload::varchar as payload
     from events order by ts, id`,
  );
}
const columns: Record<string, Vector<Utf8> | Vector<Float64>> = {};
for (const c of TEXT) columns[c] = vectorFromArray(rows.map((r) => (r[c] === null || r[c] === undefined ? null : typeof r[c] === "string" ? r[c] : JSON.stringify(r[c]))), new Utf8());
for (const c of NUM) columns[c] = vectorFromArray(rows.map((r) => (typeof r[c] === "number" ? r[c] : null)), new Float64());
process.stdout.write(tableToIPC(new Table(columns), "stream"));
