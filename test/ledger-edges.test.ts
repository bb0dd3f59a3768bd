// Hard edges of the ledger (issue 12): `ledger query` cannot write, attach, install, load or read outside the
// ledger, and stays within its limits; a query's error never quarantines a valid segment; one invalid row never
// hides the valid ones; append is idempotent and refuses conflicts; impossible times and ids are refused.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../lib/calc/types.js";
import type { Event } from "../lib/fleet/events.js";
import { makeEvent } from "../lib/fleet/events.js";
import { ulid } from "../lib/fleet/ulid.js";
import { LedgerConflict, appendEvents, appendStaged, compactLedger, queryLedger, readEvents, scanLedger, stageEvents } from "../lib/ledger/index.js";
import { runCli, runCliJson } from "./helpers/cli.js";
import { scratchDir } from "./helpers/hermetic.js";
import { rawSegment, rowSql, telemetry, tempLedger } from "./helpers/ledger.js";

const ledger = tempLedger;

/** Every file under a folder with a hash of its bytes: what must not change. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = join(dir, f);
    try {
      out[f] = createHash("sha256").update(readFileSync(p)).digest("hex");
    } catch {
      out[f] = "dir";
    }
  }
  return out;
}

async function refused(dir: string, sql: string, opts = {}): Promise<string> {
  const e = await queryLedger(dir, sql, opts).then(
    () => null,
    (x: unknown) => x,
  );
  expect(e, sql).toBeInstanceOf(InputError);
  expect((e as Error).message.split("\n")).toHaveLength(1);
  return (e as Error).message;
}

describe("ledger query is read-only by construction (finding 1)", () => {
  it("refuses COPY over a segment, COPY anywhere, ATTACH, CREATE, EXPORT, INSTALL, LOAD and SET; nothing on disk changes", async () => {
    const dir = ledger();
    const seg = (await appendEvents(dir, telemetry(20, "a"))).segments[0];
    await appendEvents(dir, telemetry(5, "b"));
    const outside = scratchDir("outside-");
    const before = snapshot(dir);
    const p = join(dir, seg);
    const attacks = [
      `COPY (SELECT 1 AS a) TO '${p}' (FORMAT parquet)`,
      `COPY (SELECT 1 AS a) TO '${join(outside, "x.parquet")}' (FORMAT parquet)`,
      `COPY (SELECT 1 AS a) TO '${join(dir, "dt=2026-01-01", "host=a", `part-${ulid()}.parquet`)}' (FORMAT parquet)`,
      `COPY events TO '${join(dir, "dump.csv")}'`,
      `ATTACH '${join(dir, "x.db")}' AS x; CREATE TABLE x.t AS SELECT 1`,
      `ATTACH '${join(dir, "x.db")}' AS x`,
      `CREATE TABLE t AS SELECT 1`,
      `EXPORT DATABASE '${join(dir, "export")}'`,
      `INSTALL httpfs`,
      `LOAD httpfs`,
      `LOAD '${join(dir, "evil.duckdb_extension")}'`,
      `SET enable_external_access = true`,
      `EXPLAIN ANALYZE COPY (SELECT 1 AS a) TO '${p}' (FORMAT parquet)`,
      `SELECT 1; COPY (SELECT 1 AS a) TO '${p}' (FORMAT parquet)`,
      `CHECKPOINT`,
    ];
    for (const sql of attacks) await refused(dir, sql);
    expect(snapshot(dir)).toEqual(before);
    expect(readdirSync(outside)).toEqual([]);
    expect(await queryLedger(dir, "SELECT count(*) AS n FROM events")).toEqual([{ n: 25 }]);
    // What stays possible: a SELECT, and EXPLAIN of one.
    expect(JSON.stringify(await queryLedger(dir, "EXPLAIN SELECT host, count(*) FROM events GROUP BY host"))).toMatch(/READ_PARQUET|PARQUET_SCAN|TABLE_SCAN/i);
  });

  it("the CLI answers a refused statement with exit 2 and one line, and the segment is intact", () => {
    const dir = ledger();
    const appended = runCliJson(["ledger", "append", "--ledger", dir, "--host", "h"], { input: '{"type":"telemetry_sample","payload":{"powerW":1}}\n' });
    const p = join(dir, appended.segments[0]);
    const bytes = readFileSync(p);
    const r = runCli(["ledger", "query", `COPY (SELECT 1 AS a) TO '${p}' (FORMAT parquet)`, "--ledger", dir]);
    expect([r.code, r.stdout]).toEqual([2, ""]);
    expect(r.stderr).toBe("hwledger: ledger query is read-only: COPY statements are refused (only SELECT)\n");
    expect(readFileSync(p).equals(bytes)).toBe(true);
    expect(runCliJson(["ledger", "query", "SELECT count(*) AS n FROM events", "--ledger", dir])).toEqual([{ n: 1 }]);
  });

  it("reads no file outside the ledger unless --allow-read names it", async () => {
    const dir = ledger();
    await appendEvents(dir, telemetry(3));
    const outside = scratchDir("outside-");
    const csv = join(outside, "prices.csv");
    writeFileSync(csv, "device,price\nrtx-4090,0.4\n");
    for (const sql of ["SELECT * FROM read_csv('/etc/passwd')", `SELECT * FROM read_csv('${csv}')`, `SELECT * FROM glob('${outside}/*')`, `SELECT * FROM read_parquet('${dir}/../../*/x.parquet')`])
      expect(await refused(dir, sql)).toMatch(/^Permission Error: /);
    const r = runCli(["ledger", "query", `SELECT * FROM read_csv('${csv}')`, "--ledger", dir]);
    expect([r.code, r.stderr.split("\n").length]).toEqual([2, 2]);
    expect(r.stderr).toMatch(/^hwledger: Permission Error: Cannot access file/);
    expect(runCliJson(["ledger", "query", `SELECT device, price FROM read_csv('${csv}')`, "--ledger", dir, "--allow-read", csv])).toEqual([{ device: "rtx-4090", price: 0.4 }]);
    expect(await queryLedger(dir, `SELECT count(*) AS n FROM glob('${outside}/*')`, { allowRead: [outside] })).toEqual([{ n: 1 }]);
  });

  it("a query over its time, memory or row limit stops with one line (exit 2 from the CLI)", async () => {
    const dir = ledger();
    await appendEvents(dir, telemetry(3));
    expect(await refused(dir, "SELECT count(*) AS n FROM range(1000000000000) t(i) WHERE i % 7 = 3", { timeoutMs: 300 })).toMatch(/stopped after 0.3 s \(the time limit/);
    expect(await refused(dir, "SELECT list(i) AS l FROM range(100000000) t(i)", { memoryLimit: "64MB" })).toMatch(/^Out of Memory Error/);
    expect(await refused(dir, "SELECT * FROM range(100)", { maxRows: 10 })).toMatch(/more than 10 rows/);
    expect(await queryLedger(dir, "SELECT * FROM range(10) t(i)", { maxRows: 10 })).toHaveLength(10);
    const r = runCli(["ledger", "query", "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3", "--ledger", dir, "--timeout", "0.5"]);
    expect([r.code, r.stderr]).toEqual([2, "hwledger: query stopped after 0.5 s (the time limit; --timeout raises it)\n"]);
    // One huge value is allocated outside DuckDB's limit and ignores interrupts: the query's process is stopped.
    const big = runCli(["ledger", "query", "SELECT repeat('x', 2000000000) AS s", "--ledger", dir, "--memory-limit", "64MB", "--timeout", "120"]);
    expect([big.code, big.stdout]).toEqual([2, ""]);
    expect(big.stderr).toBe("hwledger: query stopped: it needed more than 317 MiB of memory (the memory limit; --memory-limit raises it)\n");
  });
});

describe("quarantine only what is proven corrupt (finding 2)", () => {
  it("queries whose errors name a segment, run three times each, quarantine nothing", async () => {
    const dir = ledger();
    const segs = [(await appendEvents(dir, telemetry(11, "a"))).segments[0], (await appendEvents(dir, telemetry(4, "b"))).segments[0]];
    const before = snapshot(dir);
    for (const rel of segs) {
      const p = join(dir, rel);
      for (let i = 0; i < 3; i++) {
        await refused(dir, `SELECT error('${p}')`);
        await refused(dir, `SELECT error(filename) FROM read_parquet('${p}', filename = true) LIMIT 1`);
        await refused(dir, `SELECT * FROM read_csv('${p}')`);
        await refused(dir, `SELECT * FROM read_json('${p}')`);
      }
    }
    expect(snapshot(dir)).toEqual(before);
    expect(existsSync(join(dir, "_quarantine"))).toBe(false);
    expect(await queryLedger(dir, "SELECT count(*) AS n FROM events")).toEqual([{ n: 15 }]);
    const r = runCli(["ledger", "query", `SELECT * FROM read_csv('${join(dir, segs[0])}')`, "--ledger", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/quarantined/);
    expect((await scanLedger(dir)).segments.map((s) => s.rel).sort()).toEqual([...segs].sort());
  });
});

describe("one invalid row never hides valid ones (finding 7)", () => {
  const bad = (host: string, dt: string) =>
    rowSql({ id: ulid(Date.parse(`${dt}T12:00:00.000Z`)), ts: `${dt}T12:00:00.000Z`, host, type: "telemetry_sample" }, '{"powerW":"hot"}');

  it("compaction leaves the invalid row out: the 11 valid events stay, the segment holding it goes to quarantine", async () => {
    const dir = ledger();
    const ts = "2026-05-05T10:00:00.000Z";
    for (let i = 0; i < 3; i++) await appendEvents(dir, telemetry(i === 2 ? 3 : 4, "h", ts));
    const badRel = await rawSegment(dir, "2026-05-05", "h", bad("h", "2026-05-05"));
    const r = await compactLedger(dir);
    expect(r).toMatchObject({ merged: 4, rows: 11, invalidRows: 1 });
    expect((await scanLedger(dir)).segments).toHaveLength(1);
    expect(await readEvents(dir)).toHaveLength(11);
    expect(await queryLedger(dir, "SELECT count(*) AS n FROM events")).toEqual([{ n: 11 }]);
    expect(readdirSync(join(dir, "_quarantine"), { recursive: true }).map(String).filter((f) => f.startsWith(`${badRel}.`))).toHaveLength(1);
  });

  it("a compacted segment on disk with one bad row keeps its 11 valid rows when read", async () => {
    const dir = ledger();
    const good = telemetry(11, "h", "2026-05-06T10:00:00.000Z");
    const rows = [...good.map((e) => rowSql(e, JSON.stringify(e.payload))), bad("h", "2026-05-06")].join(" UNION ALL ");
    const rel = await rawSegment(dir, "2026-05-06", "h", `SELECT * FROM (${rows}) ORDER BY id`);
    const evs = await readEvents(dir);
    expect(evs.map((e) => e.id)).toEqual(good.map((e) => e.id).sort());
    expect(existsSync(join(dir, rel))).toBe(false);
    expect(readdirSync(join(dir, "_quarantine"), { recursive: true }).map(String).some((f) => f.startsWith(`${rel}.`))).toBe(true);
    expect(await readEvents(dir)).toEqual(evs);
    expect(await queryLedger(dir, "SELECT count(*) AS n FROM events")).toEqual([{ n: 11 }]);
  });
});

describe("what an event holds comes back as it went in", () => {
  it("a 40 MiB payload (past what DuckDB's JSON reader takes by default), non-ASCII text and large numbers are stored and read back whole", async () => {
    const dir = ledger();
    const big = "é".repeat(20 << 20); // 40 MiB of UTF-8
    const evs = [
      makeEvent("job_failed", { jobId: "j1", reason: big }, { host: "h", ts: "2026-06-01T00:00:00.000Z" }),
      makeEvent("telemetry_sample", { memoryUsedBytes: 2 ** 53 - 1, powerW: 0.1, temperatureC: -0 }, { host: "h", device_id: "h/gpu0", ts: "2026-06-01T00:00:01.000Z" }),
      makeEvent("job_failed", { jobId: "j2", reason: "naïve 日本語 \u2028 \"quoted\" \\ tab\t" }, { host: "h", ts: "2026-06-01T00:00:02.000Z" }),
    ];
    expect(await appendEvents(dir, evs)).toMatchObject({ appended: 3, skipped: 0 });
    const back = await readEvents(dir);
    expect(back.map((e) => JSON.stringify(e))).toEqual(evs.map((e) => JSON.stringify(e)));
    expect(await appendEvents(dir, evs)).toMatchObject({ appended: 0, skipped: 3 });
  });
});

describe("idempotent append (finding 8)", () => {
  it("{X} then {X, Y} stores X once, also when X comes again for another partition's batch", async () => {
    const dir = ledger();
    const [x, y, z] = telemetry(3, "h", "2026-06-01T00:00:00.000Z");
    expect(await appendEvents(dir, [x])).toMatchObject({ appended: 1, skipped: 0 });
    expect(await appendEvents(dir, [x, y])).toMatchObject({ appended: 1, skipped: 1 });
    // X again inside a batch for another host and day: X is found in its own partition and skipped.
    const other = makeEvent("telemetry_sample", { powerW: 1 }, { host: "g", ts: "2026-06-02T00:00:00.000Z" });
    expect(await appendEvents(dir, [other, x, z, z])).toMatchObject({ appended: 2, skipped: 2 });
    expect(await queryLedger(dir, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events")).toEqual([{ n: 4, d: 4 }]);
  });

  it("the same id with another payload, host or time is a conflict: nothing of the batch is written", async () => {
    const dir = ledger();
    const [x, y] = telemetry(2, "h", "2026-06-01T00:00:00.000Z");
    await appendEvents(dir, [x]);
    const before = snapshot(dir);
    for (const [changed, what] of [
      [{ ...x, payload: { ...x.payload, powerW: 999 } }, "payload"],
      [{ ...x, host: "elsewhere" }, "host"],
      [{ ...x, ts: "2026-06-03T00:00:00.000Z" }, "ts"],
    ] as const) {
      const e = await appendEvents(dir, [y, changed]).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(LedgerConflict);
      expect((e as Error).message).toBe(`event ${x.id} is already in the ledger with another ${what}: refusing the batch (nothing written)`);
    }
    await expect(appendEvents(dir, [y, { ...y, payload: { powerW: 1 } }])).rejects.toThrow(/another payload/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("staged batches written as one group (as `hwledger serve` does): stored ids and repeats left out", async () => {
    const dir = ledger();
    const [x, y, z, w, v] = telemetry(5, "h", "2026-06-01T00:00:00.000Z");
    const other = makeEvent("telemetry_sample", { powerW: 1 }, { host: "g", ts: "2026-06-01T00:00:00.000Z" });
    await appendEvents(dir, [x, y]);
    // x (stored) sits mid-part; w comes twice.
    const group = [...stageEvents([w, x, z]), ...stageEvents([other, w, v])];
    expect(group.map((p) => p.part)).toEqual(["dt=2026-06-01/host=h", "dt=2026-06-01/host=g", "dt=2026-06-01/host=h"]);
    const r = await appendStaged(dir, group);
    expect([r.appended, r.skipped, r.segments.length]).toEqual([4, 2, 2]);
    expect(await readEvents(dir)).toHaveLength(6);
    const h = r.segments.find((s) => s.includes("host=h"))!;
    const ids = await queryLedger(dir, `SELECT id FROM read_parquet('${join(dir, h)}') ORDER BY id`);
    expect(ids.map((row) => row.id)).toEqual([z.id, w.id, v.id].sort());
    expect(readdirSync(dir).filter((f) => f.startsWith(".tmp-"))).toEqual([]); // the staging folder is gone
    // The same id with other content in two batches of one group: nothing is written.
    const before = snapshot(dir);
    const [u] = telemetry(1, "h", "2026-06-01T00:00:00.000Z");
    const e = await appendStaged(dir, [...stageEvents([u]), ...stageEvents([{ ...u, payload: { ...u.payload, powerW: 5 } } as Event])]).catch((err: unknown) => err);
    expect((e as Error).message).toBe(`event ${u.id} is already in the ledger with another payload: refusing the batch (nothing written)`);
    expect(snapshot(dir)).toEqual(before);
  });

  it("ledger append says what it did, and a conflict is exit 2", () => {
    const dir = ledger();
    const line = (id: string, powerW: number) => JSON.stringify({ id, ts: "2026-06-01T00:00:00.000Z", type: "telemetry_sample", host: "h", payload: { powerW } });
    const [x, y] = [ulid(), ulid()];
    expect(runCli(["ledger", "append", "--ledger", dir], { input: line(x, 1) + "\n" }).stdout).toMatch(/^appended 1, skipped 0 already present -> dt=2026-06-01\/host=h\/part-/);
    const r = runCli(["ledger", "append", "--ledger", dir], { input: `${line(x, 1)}\n${line(y, 2)}\n` });
    expect([r.code, r.stdout.split(" -> ")[0]]).toEqual([0, "appended 1, skipped 1 already present"]);
    expect(runCliJson(["ledger", "append", "--ledger", dir], { input: `${line(x, 1)}\n${line(y, 2)}\n` })).toEqual({ events: 2, appended: 0, skipped: 2, segments: [] });
    const c = runCli(["ledger", "append", "--ledger", dir], { input: line(x, 7) + "\n" });
    expect([c.code, c.stdout]).toEqual([2, ""]);
    expect(c.stderr).toBe(`hwledger: event ${x} is already in the ledger with another payload: refusing the batch (nothing written)\n`);
    expect(runCliJson(["ledger", "query", "SELECT count(*) AS n FROM events", "--ledger", dir])).toEqual([{ n: 2 }]);
  });
});

describe("impossible times and ids are refused at the edge (finding 10, ledger part)", () => {
  it("2026-02-30 is not stored as March 2; an id above the ULID maximum is refused", () => {
    const dir = ledger();
    for (const [line, reason] of [
      ['{"type":"telemetry_sample","ts":"2026-02-30T00:00:00Z","payload":{}}', /stdin line 1: invalid event time: "2026-02-30T00:00:00Z"/],
      ['{"type":"telemetry_sample","ts":"2026-02-30","payload":{}}', /invalid event time: "2026-02-30"/],
      ['{"type":"telemetry_sample","ts":"2026-03-01T10:00:00","payload":{}}', /invalid event time/],
      ['{"type":"telemetry_sample","id":"8ZZZZZZZZZZZZZZZZZZZZZZZZZ","payload":{}}', /stdin line 1: invalid event: id: id must be a ULID/],
    ] as const) {
      const r = runCli(["ledger", "append", "--ledger", dir, "--host", "h"], { input: line + "\n" });
      expect([r.code, r.stderr.split("\n").length]).toEqual([2, 2]);
      expect(r.stderr).toMatch(reason);
    }
    expect(existsSync(dir)).toBe(false);
    expect(makeEvent("telemetry_sample", {}, { host: "h", ts: "2024-02-29", id: "7ZZZZZZZZZZZZZZZZZZZZZZZZZ" }).ts).toBe("2024-02-29T00:00:00.000Z");
  });
});
