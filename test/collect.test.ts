// `hwledger collect` for real on this machine: one-shot appends a telemetry sample; --interval keeps sampling
// and stops cleanly on SIGTERM/SIGINT; kill -9 loses at most the sample in flight.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { queryLedger } from "../lib/ledger/index.js";
import { ROOT, runCli as runCliRaw } from "./helpers/cli.js";
import { tempLedger } from "./helpers/ledger.js";

// collect caches registered devices under $XDG_STATE_HOME: keep that in a temp dir, not the user's home.
const STATE = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), "hwledger-state-")) };
const runCli = (args: string[]) => runCliRaw(args, { env: STATE });

const count = async (ledger: string, where: string) =>
  Number((await queryLedger(ledger, `SELECT count(*) AS n FROM events WHERE ${where}`))[0].n);

function startCollector(args: string[]) {
  const child = spawn(process.execPath, [join(ROOT, "bin/hwledger.js"), "collect", ...args], { env: { ...process.env, HWLEDGER_OFFLINE: "1", ...STATE } });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })));
  return { child, exited, stderr: () => stderr };
}

/** Waits until the ledger holds at least n device_probed events (one per finished sample). */
async function waitForSamples(ledger: string, n: number, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const have = await count(ledger, "type = 'device_probed'").catch(() => 0);
    if (have >= n) return;
    if (Date.now() > end) throw new Error(`only ${have} samples after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("hwledger collect", () => {
  it("one-shot: appends one probe + telemetry sample and exits 0 with nothing on stdout", async () => {
    const ledger = tempLedger();
    const r = runCli(["collect", "--ledger", ledger]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    const rows = await queryLedger(ledger, "SELECT type, device_id, payload->>'memoryTotalBytes' AS total FROM events ORDER BY type");
    expect(rows.map((x) => x.type)).toEqual(["device_probed", "device_registered", "telemetry_sample"]);
    expect(rows[2].device_id).toMatch(/\/cpu$/);
    expect(Number(rows[2].total)).toBeGreaterThan(0);
    // A second call adds a sample and does not register the device again.
    expect(runCli(["collect", "--ledger", ledger]).code).toBe(0);
    expect(await count(ledger, "type = 'telemetry_sample'")).toBe(2);
    expect(await count(ledger, "type = 'device_registered'")).toBe(1);
  });

  it("a device registered by `probe` is not registered again by `collect`", async () => {
    const ledger = tempLedger();
    expect(runCli(["probe", "--ledger", ledger]).code).toBe(0);
    expect(runCli(["collect", "--ledger", ledger]).code).toBe(0);
    expect(await count(ledger, "type = 'device_registered'")).toBe(1);
    expect(await count(ledger, "type = 'telemetry_sample'")).toBe(1);
  });

  it("--interval with a fraction keeps sampling until SIGTERM, then flushes and exits 0", async () => {
    const ledger = tempLedger();
    const c = startCollector(["--ledger", ledger, "--interval", "0.3"]);
    await waitForSamples(ledger, 3);
    c.child.kill("SIGTERM");
    const exit = await c.exited;
    expect(exit, c.stderr()).toEqual({ code: 0, signal: null });
    const m = /collect: (\d+) samples, (\d+) events, 0 failures/.exec(c.stderr());
    expect(m, c.stderr()).not.toBeNull();
    // Every sample it reported is in the ledger, complete.
    expect(await count(ledger, "type = 'device_probed'")).toBe(Number(m![1]));
    expect(await count(ledger, "true")).toBe(Number(m![2]));
  });

  it("SIGINT stops it the same way", async () => {
    const ledger = tempLedger();
    const c = startCollector(["--ledger", ledger, "--interval", "0.25", "--json"]);
    await waitForSamples(ledger, 2);
    c.child.kill("SIGINT");
    expect((await c.exited).code).toBe(0);
    expect(await count(ledger, "type = 'telemetry_sample'")).toBe(await count(ledger, "type = 'device_probed'"));
  });

  it("kill -9 mid-run loses at most the sample in flight: every sample in the ledger is whole", async () => {
    const ledger = tempLedger();
    const c = startCollector(["--ledger", ledger, "--interval", "0.05"]);
    await waitForSamples(ledger, 4);
    c.child.kill("SIGKILL");
    expect((await c.exited).signal).toBe("SIGKILL");
    // Each sample is one atomic segment: device_probed and its telemetry share a timestamp, never one without the other.
    const rows = await queryLedger(ledger, "SELECT ts, list(type ORDER BY type) AS types FROM events GROUP BY ts ORDER BY ts");
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const r of rows) expect((r.types as string[]).filter((t) => t !== "device_registered")).toEqual(["device_probed", "telemetry_sample"]);
    // Only finished segments are visible; a write cut short leaves at most a temp file the readers ignore.
    const parts = readdirSync(ledger, { recursive: true }).map(String);
    expect(parts.filter((p) => p.endsWith(".parquet") && !p.includes(".tmp-")).length).toBe(rows.length);
  });

  it("bad --interval is bad input (exit 2, one line)", () => {
    const r = runCli(["collect", "--ledger", tempLedger(), "--interval", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(runCli(["collect", "--interval", "soon"]).code).toBe(2);
  });
});
