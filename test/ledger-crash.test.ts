// Crash safety and concurrency of the ledger with real processes: kill -9 in the middle of writing a segment, two
// writers appending at the same time, and queries while two compactions run at once.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appendEvents, compactLedger, queryLedger, scanLedger } from "../lib/ledger/index.js";
import { ROOT } from "./helpers/cli.js";
import { telemetry, tempLedger } from "./helpers/ledger.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const WRITER = join(ROOT, "test", "fixtures", "ledger", "writer.ts");
// node itself runs the writer (tsx as a loader), so SIGKILL hits the writing process, not a launcher.
const writer = (args: string[], stdio: "ignore" | "pipe") =>
  spawn(process.execPath, ["--import", "tsx", WRITER, ...args], { cwd: ROOT, stdio: ["ignore", stdio, "ignore"] });

function tempsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => f.split("/").pop()!.startsWith(".tmp-"));
}

describe("ledger writer crash safety", () => {
  it("kill -9 while a segment is being written loses only that batch; the ledger stays readable", async () => {
    const dir = tempLedger();
    dirs.push(join(dir, ".."));
    const size = 40_000;
    let before = 0;
    let killedMidSegment = false;
    // The kill must land while the batch is in its temp folder; if the writer got past it first, try again.
    for (let attempt = 0; attempt < 8 && !killedMidSegment; attempt++) {
      const stale = new Set(tempsIn(dir)); // left by an earlier attempt
      const child = writer([dir, "crashy", "1000", String(size)], "pipe");
      let committed = 0;
      child.stdout!.on("data", (b: Buffer) => (committed += (b.toString().match(/committed/g) ?? []).length));
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_c, sig) => r(sig)));
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (committed >= 2 && tempsIn(dir).some((t) => !stale.has(t))) break;
        await new Promise((r) => setTimeout(r, 1));
      }
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      await new Promise((r) => setTimeout(r, 50)); // let the last stdout bytes arrive
      const [{ n, d }] = await queryLedger(dir, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events");
      // Whole batches only: what the writer reported, plus possibly the one whose link landed just before the kill.
      expect(n).toBe(d);
      expect([before + committed * size, before + (committed + 1) * size]).toContain(n);
      before = n as number;
      killedMidSegment = tempsIn(dir).some((t) => !stale.has(t));
    }
    expect(killedMidSegment).toBe(true);
    const scan = await scanLedger(dir);
    expect(scan.foreign).toEqual([]);
    // compact removes the dead writer's temp files and changes no row.
    const r = await compactLedger(dir, { tempAgeMs: 0 });
    expect(r.tempsRemoved).toBe(scan.temps.length);
    expect(await queryLedger(dir, `SELECT count(*) AS n, count(DISTINCT payload->>'jobId') * ${size} AS whole FROM events`)).toEqual([
      { n: before, whole: before },
    ]);
  });

  it("two writer processes appending at once lose nothing", async () => {
    const dir = tempLedger();
    dirs.push(join(dir, ".."));
    const run = (host: string) =>
      new Promise<number | null>((resolve) => {
        const c = writer([dir, host, "12", "500"], "ignore");
        c.on("exit", (code) => resolve(code));
      });
    // Same host for both: they write into the same partition folder concurrently.
    expect(await Promise.all([run("shared"), run("shared")])).toEqual([0, 0]);
    expect(await queryLedger(dir, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events")).toEqual([{ n: 12_000, d: 12_000 }]);
    expect((await scanLedger(dir)).segments).toHaveLength(24);
  });
});

describe("compaction and queries coexist (finding 6)", () => {
  const compact = (dir: string) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const c = spawn(process.execPath, [join(ROOT, "bin", "hwledger.js"), "ledger", "compact", "--ledger", dir, "--json"], { cwd: ROOT });
      let out = "";
      let err = "";
      c.stdout.on("data", (b: Buffer) => (out += b));
      c.stderr.on("data", (b: Buffer) => (err += b));
      c.on("exit", (code) => resolve({ code, out, err }));
    });

  it("queries during two concurrent compactions always see every row once; both compactions succeed, one after the other", async () => {
    const dir = tempLedger();
    dirs.push(join(dir, ".."));
    const hosts = ["a", "b", "c", "d"];
    let total = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) for (const h of hosts) await appendEvents(dir, telemetry(5, h));
      total += 10 * hosts.length * 5;
      const running = Promise.all([compact(dir), compact(dir)]);
      let finished = false;
      void running.then(() => (finished = true));
      const seen: unknown[] = [];
      const loop = async () => {
        while (!finished) seen.push(await queryLedger(dir, "SELECT count(*) AS n, count(DISTINCT id) AS d FROM events").catch((e: Error) => e.message));
      };
      await Promise.all([loop(), loop()]);
      const results = await running;
      expect(results.map((r) => [r.code, r.err])).toEqual([
        [0, ""],
        [0, ""],
      ]);
      // The second compaction waited for the first and found nothing left to merge (or merged what it missed).
      expect(results.map((r) => JSON.parse(r.out).merged).reduce((a, b) => a + b, 0)).toBe(round === 0 ? 40 : 44);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((x) => JSON.stringify(x) !== JSON.stringify([{ n: total, d: total }]))).toEqual([]);
      expect((await scanLedger(dir)).segments).toHaveLength(hosts.length);
    }
    expect(existsSync(join(dir, "_quarantine"))).toBe(false);
  });
});
