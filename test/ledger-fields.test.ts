// Typed payload fields (lib/ledger/fields.ts): names checked against the zod schemas at compile time (the lines
// marked ts-expect-error fail `tsc` if a wrong name were accepted), SQL types derived from the schemas, values
// read through real DuckDB equal to what was appended; and no source outside fields.ts spells a payload path.
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeEvent } from "../lib/fleet/events.js";
import { appendEvents, eventsOf, field, isoTs, payloadOf, queryLedger, typeIs } from "../lib/ledger/index.js";
import { ROOT } from "./helpers/cli.js";
import { tempLedger } from "./helpers/ledger.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("typed payload fields", () => {
  it("derive the SQL and its type from the event's zod schema; wrong names do not compile", () => {
    expect(field("telemetry_sample", "powerW")).toEqual({ sql: "TRY_CAST(payload->>'powerW' AS DOUBLE)", type: "DOUBLE", path: ["powerW"] });
    expect(field("telemetry_sample", "memoryUsedBytes").type).toBe("BIGINT");
    expect(field("device_registered", "kind")).toMatchObject({ sql: "(payload->>'kind')", type: "VARCHAR" });
    expect(field("price_quoted", "spot").type).toBe("BOOLEAN");
    expect(field("job_planned", "plan")).toMatchObject({ sql: "(payload->'plan')", type: "JSON" });
    expect(field("job_started", "command").type).toBe("JSON");
    expect(field("job_completed", "actual", "kvCacheBytes")).toEqual({ sql: "TRY_CAST(payload->'actual'->>'kvCacheBytes' AS BIGINT)", type: "BIGINT", path: ["actual", "kvCacheBytes"] });
    expect(typeIs("job_completed", "job_failed")).toBe("type IN ('job_completed', 'job_failed')");
    // @ts-expect-error: telemetry samples have no `name`
    expect(() => field("telemetry_sample", "name")).toThrow(/telemetry_sample has no payload field name/);
    // @ts-expect-error: `actual` has no `tokens`
    expect(() => field("job_completed", "actual", "tokens")).toThrow(/no payload field actual.tokens/);
    // @ts-expect-error: not an event type
    expect(() => typeIs("telemetry")).toThrow(/unknown event type/);
  });

  it("read the values that were appended, through real DuckDB", async () => {
    const dir = tempLedger();
    dirs.push(join(dir, ".."));
    const ts = "2026-07-01T12:00:00.000Z";
    await appendEvents(dir, [
      makeEvent("telemetry_sample", { powerW: 312.5, memoryUsedBytes: 2 ** 40, jobId: "j" }, { host: "h", device_id: "gpu0", ts }),
      makeEvent("job_completed", { jobId: "j", actual: { kvCacheBytes: 123456789 }, durationS: 9.5, generatedTokens: 42 }, { host: "h", ts }),
      makeEvent("price_quoted", { device: "rtx-4090", source: "x", pricePerHour: 0.4, currency: "USD", spot: true }, { host: "h", ts }),
    ]);
    const [t] = await queryLedger(dir, `SELECT ${isoTs()} AS ts, "powerW", "memoryUsedBytes", "jobId" FROM ${eventsOf("telemetry_sample", ["powerW", "memoryUsedBytes", "jobId"])}`);
    expect(t).toEqual({ ts, powerW: 312.5, memoryUsedBytes: 2 ** 40, jobId: "j" });
    const [j] = await queryLedger(
      dir,
      `SELECT ${field("job_completed", "actual", "kvCacheBytes").sql} AS kv, ${field("job_completed", "actual").sql} AS actual, ${field("job_completed", "generatedTokens").sql} AS n FROM events WHERE ${typeIs("job_completed")}`,
    );
    expect(j).toEqual({ kv: 123456789, actual: { kvCacheBytes: 123456789 }, n: 42 });
    expect(await queryLedger(dir, `SELECT ${field("price_quoted", "spot").sql} AS spot FROM events WHERE ${typeIs("price_quoted")}`)).toEqual([{ spot: true }]);
    const [p] = await queryLedger(dir, `SELECT payload FROM events WHERE ${typeIs("job_completed")}`);
    expect(payloadOf("job_completed", p.payload)?.actual.kvCacheBytes).toBe(123456789);
    expect(payloadOf("job_completed", { jobId: "" })).toBeNull();
  });

  it("no source outside lib/ledger/fields.ts spells a payload path by hand", () => {
    const hits: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) {
          if (e.name !== "node_modules" && !e.name.startsWith(".")) walk(rel);
        } else if (/\.(ts|js|md)$/.test(e.name) && rel !== "lib/ledger/fields.ts") {
          if (/payload\s*->>?\s*'|json_extract/.test(readFileSync(join(ROOT, rel), "utf8"))) hits.push(rel);
        }
      }
    };
    for (const d of ["lib", "loaders", "cli", "collector", "plugins", "src", "bench"]) walk(d);
    expect(hits).toEqual([]);
  });
});

describe("typed fields inside larger expressions", () => {
  it("a text field compared with IS NOT NULL keeps its meaning (->> binds looser than IS in DuckDB)", () => {
    expect(`${field("cost_recorded", "intentId").sql} IS NOT NULL`).toBe("(payload->>'intentId') IS NOT NULL");
  });
});
