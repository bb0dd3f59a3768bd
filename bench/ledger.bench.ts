// Ledger speed: batched append throughput (zod validation + Parquet write + fsync + rename) and a group-by
// over 10 million events (generated with DuckDB itself into hive-layout segments). Goals (issue 5):
// ledger_append_events_per_s >= 200,000; ledger_groupby_10m_s < 2 s. Printed, not asserted.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchFigure } from "./run.js";
import { makeEvent } from "../lib/fleet/events.js";
import type { Event } from "../lib/fleet/events.js";
import { appendEvents, field, queryLedger, typeIs } from "../lib/ledger/index.js";
import { lit, withConnection } from "../lib/ledger/duck.js";
import { segmentName } from "../lib/ledger/layout.js";

const BATCH = 100_000;
const BATCHES = 4;
const TOTAL = 10_000_000;
const HOSTS = 10;

function batch(host: string): Event[] {
  return Array.from({ length: BATCH }, (_, i) =>
    makeEvent("telemetry_sample", { memoryUsedBytes: i * 4096, powerW: 250 + (i % 50), utilizationPct: i % 100 }, { host, device_id: `gpu${i % 8}` }),
  );
}

async function appendRate(dir: string): Promise<number> {
  const batches = Array.from({ length: BATCHES }, () => batch("bench"));
  await appendEvents(join(dir, "warm"), batch("warm").slice(0, 1000));
  const t0 = performance.now();
  for (const b of batches) await appendEvents(join(dir, "append"), b);
  return (BATCH * BATCHES) / ((performance.now() - t0) / 1000);
}

/** 10M events straight from DuckDB: one segment per host, ULID-shaped unique ids, valid event rows. */
async function generate(dir: string): Promise<void> {
  const per = TOTAL / HOSTS;
  await withConnection(async (c) => {
    for (let h = 0; h < HOSTS; h++) {
      const part = join(dir, "dt=2026-11-27", `host=node${h}`);
      mkdirSync(part, { recursive: true });
      const id = (i: number) => `01M8${(h * per + i).toString(16).toUpperCase().padStart(22, "0")}`;
      const file = join(part, segmentName([id(0)]));
      await c.run(`COPY (
        SELECT '01M8' || lpad(upper(to_hex(${h * per} + i)), 22, '0') AS id,
               TIMESTAMPTZ '2026-11-27 00:00:00+00' + to_milliseconds(i) AS ts,
               'node${h}' AS host,
               'gpu' || (i % 8) AS device_id,
               CASE WHEN i % 10 = 0 THEN 'device_probed' ELSE 'telemetry_sample' END AS type,
               json_object('powerW', 200 + i % 100, 'memoryUsedBytes', i * 4096)::JSON AS payload
        FROM range(${per}) t(i) ORDER BY id) TO ${lit(file)} (FORMAT parquet, COMPRESSION zstd)`);
    }
  });
}

export async function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), "hwledger-bench-"));
  try {
    const rate = await appendRate(dir);
    const big = join(dir, "big");
    await generate(big);
    // Queries run on a read-only DuckDB made once per process and ledger (~40 ms): start it before timing, as
    // the append figure starts the writer's, so the figure is the group-by itself.
    await queryLedger(big, "SELECT 1");
    const t0 = performance.now();
    const rows = await queryLedger(big, "SELECT host, type, count(*) AS n FROM events GROUP BY host, type");
    const groupby = (performance.now() - t0) / 1000;
    const total = rows.reduce((s, r) => s + (r.n as number), 0);
    if (total !== TOTAL) throw new Error(`group-by saw ${total} events, expected ${TOTAL}`);
    const t1 = performance.now();
    await queryLedger(big, `SELECT device_id, avg(${field("telemetry_sample", "powerW").sql}) AS w FROM events WHERE ${typeIs("telemetry_sample")} GROUP BY device_id`);
    const jsonGroupby = (performance.now() - t1) / 1000;
    return [
      { name: "ledger_append_events_per_s", value: Math.round(rate), unit: "events/s" },
      { name: "ledger_groupby_10m_s", value: Number(groupby.toFixed(3)), unit: "s" },
      { name: "ledger_groupby_10m_json_payload_s", value: Number(jsonGroupby.toFixed(3)), unit: "s" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
