// The Parquet ledger: zod events, append/query round trips on real Parquet through real DuckDB, quarantine,
// compaction and the `hwledger ledger` CLI.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, linkSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DuckDBInstance } from "@duckdb/node-api";
import { EVENT_TYPES, makeEvent, parseEvent } from "../lib/fleet/events.js";
import { ULID_RE, ulid } from "../lib/fleet/ulid.js";
import { appendEvents, compactLedger, queryLedger, readEvents, scanLedger } from "../lib/ledger/index.js";
import { runCli, runCliJson } from "./helpers/cli.js";
import { telemetry, tempLedger } from "./helpers/ledger.js";

const dirs: string[] = [];
function ledger(): string {
  const d = tempLedger();
  dirs.push(join(d, ".."));
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function duckCopy(sql: string, file: string): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  await c.run(`COPY (${sql}) TO '${file}' (FORMAT parquet)`);
  c.closeSync();
}

describe("events", () => {
  it("makeEvent fills id (ULID) and UTC ts, and validates the payload per type", () => {
    const e = makeEvent("job_completed", { jobId: "j1", actual: { kvCacheBytes: 1024, decodeTokensPerSecond: 42.5 } }, { host: "box1" });
    expect(e.id).toMatch(ULID_RE);
    expect(e.ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(e.device_id).toBeUndefined();
    expect(() => makeEvent("job_completed", { actual: {} } as never, { host: "box1" })).toThrow(/jobId/);
    expect(() => makeEvent("telemetry_sample", { memoryUsedBytes: -1 }, { host: "box1" })).toThrow(/memoryUsedBytes/);
    expect(() => makeEvent("telemetry_sample", {}, { host: "bad/host" })).toThrow(/host/);
    expect(EVENT_TYPES).toContain("split_planned");
  });

  it("parseEvent rejects a non-ULID id, a non-UTC time and an unknown type; keeps extra payload fields", () => {
    const good = makeEvent("price_quoted", { device: "H100", source: "static", pricePerHour: 2.1, currency: "USD", note: "x" }, { host: "h" });
    expect(parseEvent(JSON.parse(JSON.stringify(good)))).toEqual(good);
    expect((good.payload as Record<string, unknown>).note).toBe("x");
    expect(() => parseEvent({ ...good, id: "123" })).toThrow(/ULID/);
    expect(() => parseEvent({ ...good, ts: "2026-01-01T00:00:00+02:00" })).toThrow(/ts/);
    expect(() => parseEvent({ ...good, type: "nope" })).toThrow();
  });

  it("ULIDs from one process sort in creation order, also within one millisecond", () => {
    const ids = Array.from({ length: 5000 }, () => ulid(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("append and query", () => {
  it("round-trips events through a Parquet segment in the hive layout, validated on read", async () => {
    const dir = ledger();
    const evs = telemetry(100);
    const r = await appendEvents(dir, evs);
    expect(r.segments[0]).toMatch(/^dt=\d{4}-\d{2}-\d{2}\/host=box1\/part-[0-9A-Z]{26}\.parquet$/);
    expect(readFileSync(join(dir, r.segments[0])).subarray(0, 4).toString()).toBe("PAR1");
    const back = await readEvents(dir);
    expect(back).toEqual([...evs].sort((a, b) => (a.id < b.id ? -1 : 1)));
    const rows = await queryLedger(dir, "SELECT count(*) AS n, sum((payload->>'memoryUsedBytes')::BIGINT) AS s, typeof(any_value(payload)) AS t FROM events");
    expect(rows).toEqual([{ n: 100, s: (99 * 100 * 1024) / 2, t: "JSON" }]);
  });

  it("re-appending the same batch writes nothing new", async () => {
    const dir = ledger();
    const evs = telemetry(10);
    const a = await appendEvents(dir, evs);
    expect(a).toMatchObject({ appended: 10, skipped: 0 });
    const b = await appendEvents(dir, [...evs].reverse());
    expect(b).toEqual({ appended: 0, skipped: 10, segments: [] });
    expect((await scanLedger(dir)).segments).toHaveLength(1);
    expect((await queryLedger(dir, "SELECT count(*) AS n FROM events"))[0].n).toBe(10);
  });

  it("splits a batch by UTC day and host; host and dt come from the path and prune files", async () => {
    const dir = ledger();
    const r = await appendEvents(dir, [
      ...telemetry(3, "a", "2026-03-01T23:59:59.999Z"),
      ...telemetry(2, "a", "2026-03-02T00:00:00.000Z"),
      ...telemetry(4, "b", "2026-03-01T12:00:00.000Z"),
    ]);
    expect(r.segments.map((s) => s.split("/part-")[0])).toEqual(["dt=2026-03-01/host=a", "dt=2026-03-01/host=b", "dt=2026-03-02/host=a"]);
    expect(await queryLedger(dir, "SELECT host, count(*) AS n FROM events GROUP BY host ORDER BY host")).toEqual([
      { host: "a", n: 5 },
      { host: "b", n: 4 },
    ]);
    const plan = await queryLedger(dir, "EXPLAIN SELECT * FROM events WHERE host = 'b'");
    expect(JSON.stringify(plan)).toMatch(/Scanning Files: 1\/3/);
  });

  it("an empty or missing ledger is an empty view, not an error", async () => {
    expect(await queryLedger(ledger(), "SELECT count(*) AS n FROM events")).toEqual([{ n: 0 }]);
  });

  it("rejects invalid events before writing anything", async () => {
    const dir = ledger();
    const bad = { ...telemetry(1)[0], payload: { powerW: "hot" } };
    await expect(appendEvents(dir, [...telemetry(3), bad])).rejects.toThrow(/powerW/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe("quarantine", () => {
  it("moves garbage, foreign files, foreign Parquet and truncated segments aside and queries the rest", async () => {
    const dir = ledger();
    const good = await appendEvents(dir, telemetry(20));
    const part = join(dir, good.segments[0], "..");
    writeFileSync(join(dir, "notes.txt"), "not a segment");
    writeFileSync(join(part, `part-${ulid()}.parquet`), "garbage that is not parquet");
    await duckCopy("SELECT 1 AS a, 'x' AS b", join(part, `part-${ulid()}.parquet`));
    const other = await appendEvents(dir, telemetry(5));
    const bytes = readFileSync(join(dir, other.segments[0]));
    writeFileSync(join(dir, other.segments[0]), bytes.subarray(0, bytes.length / 2));
    mkdirSync(join(dir, "dt=2026-01-01", "stray"), { recursive: true });

    const rows = await queryLedger(dir, "SELECT count(*) AS n FROM events");
    expect(rows).toEqual([{ n: 20 }]);
    const q = readdirSync(join(dir, "_quarantine"), { recursive: true }).map(String);
    expect(q.filter((f) => /notes\.txt\./.test(f))).toHaveLength(1);
    expect(q.filter((f) => /part-.*\.parquet\./.test(f))).toHaveLength(3);
    expect(q.some((f) => f.startsWith("dt=2026-01-01/stray"))).toBe(true);
    expect((await scanLedger(dir)).segments.map((s) => s.rel)).toEqual([good.segments[0]]);
  });

  it("a segment with valid magic bytes but a damaged body is quarantined when DuckDB trips on it", async () => {
    const dir = ledger();
    await appendEvents(dir, telemetry(50, "a"));
    const bad = await appendEvents(dir, telemetry(2000, "b"));
    const buf = readFileSync(join(dir, bad.segments[0]));
    buf.fill(0xab, 8, buf.length - 8); // footer and pages destroyed, PAR1 magic kept
    writeFileSync(join(dir, bad.segments[0]), buf);
    const r = runCli(["ledger", "query", "SELECT count(*) AS n FROM events", "--ledger", dir, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ n: 50 }]);
    expect(r.stderr).toMatch(/warning: quarantined dt=.*host=b\/part-/);
  });

  it("a segment whose footer is intact but whose data pages are damaged is quarantined at query time", async () => {
    const dir = ledger();
    await appendEvents(dir, telemetry(50, "a"));
    const bad = await appendEvents(dir, telemetry(2000, "b"));
    const buf = readFileSync(join(dir, bad.segments[0]));
    const footerLen = buf.readUInt32LE(buf.length - 8);
    buf.fill(0x5a, 4, buf.length - 8 - footerLen); // every page, footer and magic untouched
    writeFileSync(join(dir, bad.segments[0]), buf);
    expect(await queryLedger(dir, "SELECT count(*) AS n, count(DISTINCT host) AS h, min(payload->>'powerW') AS p FROM events")).toEqual([
      { n: 50, h: 1, p: "100" },
    ]);
    expect(existsSync(join(dir, bad.segments[0]))).toBe(false);
  });

  it("readEvents quarantines a segment whose rows fail the zod schema", async () => {
    const dir = ledger();
    await appendEvents(dir, telemetry(3, "a"));
    const part = join(dir, "dt=2026-02-02", "host=z");
    mkdirSync(part, { recursive: true });
    await duckCopy(
      `SELECT '${ulid()}' AS id, TIMESTAMPTZ '2026-02-02 00:00:00+00' AS ts, 'z' AS host, NULL::VARCHAR AS device_id, 'telemetry_sample' AS type, '{"powerW":"hot"}'::JSON AS payload`,
      join(part, `part-${ulid()}.parquet`),
    );
    const evs = await readEvents(dir);
    expect(evs).toHaveLength(3);
    expect(readdirSync(part)).toEqual([]);
  });
});

describe("compact", () => {
  const all = "SELECT id, ts, host, device_id, type, payload::VARCHAR AS payload FROM events ORDER BY id";

  it("merges small segments without changing content, and cleans stale temp files", async () => {
    const dir = ledger();
    for (let i = 0; i < 5; i++) await appendEvents(dir, telemetry(30, "a"));
    await appendEvents(dir, telemetry(7, "b"));
    const before = await queryLedger(dir, all);
    const tmp = join(dir, (await scanLedger(dir)).segments[0].rel, "..", ".tmp-crashed.parquet");
    writeFileSync(tmp, "half a segment");
    utimesSync(tmp, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    const r = await compactLedger(dir);
    expect(r).toMatchObject({ merged: 5, rows: 150, tempsRemoved: 1 });
    expect((await scanLedger(dir)).segments).toHaveLength(2);
    const after = await queryLedger(dir, all);
    expect(after).toEqual(before);
    expect(new Set(after.map((x) => x.id)).size).toBe(157);
    expect((await compactLedger(dir)).merged).toBe(0);
  });

  it("a compaction interrupted after linking the merged segment shows no row twice and is finished later", async () => {
    const dir = ledger();
    await appendEvents(dir, telemetry(10, "a"));
    await appendEvents(dir, telemetry(10, "a"));
    const sources = (await scanLedger(dir)).segments.map((s) => join(dir, s.rel));
    // Keep the sources as they were before the merge deleted them: the state a crash right after the link leaves.
    const saved = sources.map((f) => [f, readFileSync(f)] as const);
    await compactLedger(dir);
    for (const [f, b] of saved) writeFileSync(f, b);
    expect((await scanLedger(dir)).segments).toHaveLength(3);
    expect(await queryLedger(dir, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events")).toEqual([{ n: 20, d: 20 }]);
    const r = await compactLedger(dir);
    expect(r.rolledForward).toBe(2);
    expect((await scanLedger(dir)).segments).toHaveLength(1);
  });
});

describe("hwledger ledger CLI", () => {
  it("append from NDJSON, query --json as an array of row objects with BigInt made JSON-safe", () => {
    const dir = ledger();
    const lines = [
      JSON.stringify({ type: "job_planned", host: "gpu1", payload: { jobId: "j1", engine: "vllm", model: "m", plan: { memory: { totalBytes: 123 } } } }),
      JSON.stringify({ type: "job_completed", host: "gpu1", payload: { jobId: "j1", actual: { kvCacheBytes: 2 ** 40 } } }),
    ];
    const a = runCliJson(["ledger", "append", "--ledger", dir], { input: lines.join("\n") + "\n" });
    expect(a.events).toBe(2);
    const rows = runCliJson([
      "ledger",
      "query",
      "SELECT type, (payload->'actual'->>'kvCacheBytes')::UBIGINT AS kv, 18446744073709551615::UBIGINT AS big, payload FROM events ORDER BY type",
      "--ledger",
      dir,
    ]);
    expect(rows).toEqual([
      { type: "job_completed", kv: 2 ** 40, big: "18446744073709551615", payload: { jobId: "j1", actual: { kvCacheBytes: 2 ** 40 } } },
      { type: "job_planned", kv: null, big: "18446744073709551615", payload: { jobId: "j1", engine: "vllm", model: "m", plan: { memory: { totalBytes: 123 } } } },
    ]);
  });

  it("bad SQL exits 2 with DuckDB's one-line reason; bad events exit 2", () => {
    const dir = ledger();
    const r = runCli(["ledger", "query", "SELEC * FROM events", "--ledger", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual(['hwledger: Parser Error: syntax error at or near "SELEC"']);
    const r2 = runCli(["ledger", "query", "SELECT nope FROM events", "--ledger", dir, "--json"]);
    expect(r2.code).toBe(2);
    expect(r2.stdout).toBe("");
    expect(r2.stderr).toMatch(/^hwledger: Binder Error: Referenced column "nope" not found/);
    const r3 = runCli(["ledger", "append", "--ledger", dir], { input: '{"type":"telemetry_sample","payload":{"powerW":"x"}}\n' });
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/^hwledger: stdin line 1: invalid event: payload.powerW/);
  });

  it("uses $HWLEDGER_LEDGER when --ledger is not given", () => {
    const dir = ledger();
    const env = { HWLEDGER_LEDGER: dir };
    runCli(["ledger", "append", "--host", "envhost"], { env, input: '{"type":"telemetry_sample","payload":{"powerW":7}}\n' });
    expect(runCliJson(["ledger", "query", "SELECT host, payload->>'powerW' AS w FROM events"], { env })).toEqual([{ host: "envhost", w: "7" }]);
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^dt=\d{4}-\d{2}-\d{2}$/)]);
  });

  it("compact --json reports what it merged; --help works for every subcommand", () => {
    const dir = ledger();
    for (let i = 0; i < 3; i++) runCli(["ledger", "append", "--ledger", dir, "--host", "h"], { input: '{"type":"telemetry_sample","payload":{"powerW":1}}\n' });
    expect(runCliJson(["ledger", "compact", "--ledger", dir])).toMatchObject({ merged: 3, rows: 3 });
    for (const sub of ["query", "compact", "ship", "append"]) expect(runCli(["ledger", sub, "--help"]).code).toBe(0);
    expect(statSync(dir).isDirectory()).toBe(true);
  });
});
