// The fleet pages (/fleet, /sql, /costs, /dispatch, /split) in real headless Chromium (Debian chromium +
// playwright-core), built once by ensureSite with HWLEDGER_LEDGER pointing at a ledger written by the project's
// real writers (test/helpers/fleet-ledger.ts). Every figure a page shows must equal the CLI's for the same inputs
// and the same ledger; pages must load with no console error, failed request or request off the machine.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { calibrationFromLedger, recordedRuns } from "../loaders/runs.js";
import { fleetDevices } from "../loaders/fleet.js";
import { queryLedger } from "../lib/ledger/index.js";
import { ROOT, runCliJson } from "./helpers/cli.js";
import { setInput, startSite } from "./helpers/browser.js";
import type { Problems, Site } from "./helpers/browser.js";
import { TEST_LEDGER } from "./helpers/fleet-ledger.js";

let site: Site;
beforeAll(async () => {
  site = await startSite();
}, 420_000);
afterAll(async () => {
  await site?.close();
});

function expectClean(problems: Problems): void {
  expect(problems.consoleErrors).toEqual([]);
  expect(problems.failedRequests).toEqual([]);
  expect(problems.offMachine).toEqual([]);
}

/** Data attributes of every row of a table, as plain objects. */
async function rowData(page: Page, selector: string): Promise<Record<string, string>[]> {
  return page.locator(selector).evaluateAll((trs) => trs.map((tr) => ({ ...(tr as HTMLElement).dataset }) as Record<string, string>));
}

describe("fleet pages", () => {
  for (const route of ["/fleet", "/sql", "/costs", "/dispatch", "/split"]) {
    it(`${route} loads with no console error, no failed request, nothing off the machine`, async () => {
      const { page, problems } = await site.open(route);
      await page.waitForTimeout(300);
      const text = await page.locator("main").innerText();
      expect(text.length).toBeGreaterThan(300);
      expect(text).not.toMatch(/\bnull\b|undefined|NaN|RuntimeError|SyntaxError/);
      expect(await page.locator("main .observablehq--error").count()).toBe(0);
      // In the nav, under "Fleet".
      expect(await page.locator(`#observablehq-sidebar a[href$="${route.slice(1)}"]`).count()).toBeGreaterThan(0);
      expectClean(problems);
      await page.close();
    });
  }

  it("a data loader with no ledger says so instead of failing the build", () => {
    const r = spawnSync(`${ROOT}node_modules/.bin/tsx`, ["src/data/fleet.json.ts"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, HWLEDGER_LEDGER: "/nonexistent/hwledger-ledger" } });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ exists: false, devices: [], runs: [], ledger: "$HWLEDGER_LEDGER" });
    expect(r.stdout).not.toContain("/nonexistent/");
  });
});

describe("/fleet", () => {
  it("lists the ledger's devices, health and every run's prediction against its actuals", async () => {
    const { page, problems } = await site.open("/fleet", { colorScheme: "dark" });
    await page.waitForSelector("#runs");
    const devices = await fleetDevices(TEST_LEDGER);
    expect((await rowData(page, "#device-table tbody tr")).map((d) => [d.device, d.catalog, Number(d.memory)])).toEqual(devices.map((d) => [d.id, d.catalogId ?? "", d.memoryBytes]));
    expect(devices.filter((d) => d.catalogId).map((d) => d.catalogId).sort()).toEqual(["a100-sxm4-80gb", "l40s", "rtx-4090"]);
    const hosts = (await queryLedger(TEST_LEDGER, "select distinct host from events where type in ('device_probed', 'probe_failed') order by host")).map((r) => String(r.host));
    const health = await rowData(page, "#health-table tbody tr");
    expect(health.map((h) => h.host)).toEqual(hosts);
    expect(health.filter((h) => h.host === "a100box" || h.host === "desk")).toEqual([
      { host: "a100box", failures: "2", code: "refused" },
      { host: "desk", failures: "0", code: "" },
    ]);
    // The latest failure with its reason and its code (what `collect --hosts` records: refused, timeout, auth, …).
    expect(await page.locator('#health-table tr[data-host="a100box"]').innerText()).toContain("ssh (refused): connect ECONNREFUSED");

    // Prediction vs actual: the error of each figure equals (predicted − actual) / actual from the recorded runs.
    const runs = await recordedRuns(TEST_LEDGER);
    expect((await rowData(page, "#runs tbody tr")).map((r) => [r.job, r.engine, r.status])).toEqual(runs.map((r) => [r.jobId, r.engine, r.status]));
    for (const r of runs.filter((x) => x.status === "completed")) {
      const cell = (f: string) => page.locator(`#runs tr[data-job="${r.jobId}"] td[data-figure="${f}"]`).getAttribute("data-error");
      expect(Number(await cell("weights"))).toBeCloseTo(((r.predicted.weightsBytes! - r.actual.weightsBytes!) / r.actual.weightsBytes!) * 100, 3);
      expect(Number(await cell("KV cache"))).toBeCloseTo(((r.predicted.kvCacheBytes! - r.actual.kvCacheBytes!) / r.actual.kvCacheBytes!) * 100, 3);
      expect(await cell("decode tok/s")).not.toBe("");
    }
    // The failed run shows its reason and no error figure.
    const failed = runs.find((r) => r.status === "failed")!;
    expect(await page.locator(`#runs tr[data-job="${failed.jobId}"]`).innerText()).toContain("CUDA out of memory");
    expect(await page.locator(`#runs tr[data-job="${failed.jobId}"] td[data-figure="weights"]`).getAttribute("data-error")).toBe("");
    // Calibration: measured runs calibrate engine × device (as `hwledger speed` does) and the page shows the decode
    // error before and after. A group fitted to a single run reproduces it exactly (the fit is the geometric mean
    // of measured / predicted, so with several runs it removes the bias, not every error).
    const cal = await calibrationFromLedger(TEST_LEDGER);
    expect(await page.locator("#calibration tbody tr").count()).toBe(cal.size);
    for (const [key, eff] of cal) {
      const row = page.locator(`#calibration tr[data-key="${key}"]`);
      expect(Number(await row.getAttribute("data-before"))).toBeGreaterThan(0);
      if (eff.runs === 1) expect(Number(await row.getAttribute("data-after"))).toBeLessThan(1e-6);
      expect(await row.innerText()).toContain(eff.decode.toFixed(2));
    }
    expect([...cal.values()].some((e) => e.runs === 1)).toBe(true);
    // Charts with titles and marks; readable dark theme.
    for (const id of ["#chart-memory", "#chart-util", "#chart-error"]) expect(await page.locator(`${id} svg path, ${id} svg rect`).count(), id).toBeGreaterThan(2);
    expect(await page.locator("#chart-memory").innerText()).toContain("Memory used over time (GiB)");
    const [bg, fg] = await page.evaluate(() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]);
    const lum = (c: string) => c.match(/\d+/g)!.slice(0, 3).map(Number).reduce((a, b) => a + b, 0) / 3;
    expect(lum(bg)).toBeLessThan(80);
    expect(lum(fg)).toBeGreaterThan(150);
    expectClean(problems);
    await page.close();
  });
});

describe("/sql", () => {
  async function run(page: Page, sql: string): Promise<void> {
    await page.locator("#sql textarea").fill(sql);
    await page.locator("#sql button").click();
    // The address bar changes before DuckDB answers: wait for the answer to this query.
    await expect.poll(() => page.locator("#sql-count, #sql-error").first().getAttribute("data-query")).toBe(sql);
  }

  it("runs SQL in DuckDB-wasm over the ledger: same answer as DuckDB in Node, a chart for numbers, DuckDB's message for bad SQL", async () => {
    const { page, problems } = await site.open("/sql");
    await page.waitForSelector("#sql-count");
    // Not the page's first example: the Run button only wakes for a changed query.
    const q = "select type, count(*) as events from events group by type order by events desc, type desc";
    const want = await queryLedger(TEST_LEDGER, q);
    await run(page, q);
    await expect.poll(() => new URL(page.url()).searchParams.get("q")).toBe(q);
    const rows = () => page.locator("#sql-table table tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].slice(1).map((td) => td.textContent)));
    await expect.poll(rows).toEqual(want.map((r) => [String(r.type), String(r.events)]));
    expect(await page.locator("#sql-chart svg rect").count()).toBeGreaterThanOrEqual(want.length);

    // Timestamps are TIMESTAMP, payload fields are typed columns.
    await run(page, "select device_id, max(memory_used_bytes) as peak from events where type = 'telemetry_sample' and ts >= timestamp '2026-11-21 00:00:00' group by device_id order by device_id");
    const peak = await queryLedger(TEST_LEDGER, "select device_id, max(try_cast(payload->>'memoryUsedBytes' as double)) as peak from events where type = 'telemetry_sample' and ts >= timestamp '2026-11-21 00:00:00' group by device_id order by device_id");
    await expect.poll(() => page.locator("#sql-count").getAttribute("data-rows")).toBe(String(peak.length));
    await expect.poll(async () => (await rows()).map((r) => r[0])).toEqual(peak.map((r) => r.device_id));

    // No number column: no chart, a note.
    await run(page, "select distinct host from events order by host");
    await expect.poll(() => page.locator("#sql-chart").innerText()).toContain("No number column");

    // A bad query shows DuckDB's own message, and the page keeps working.
    await run(page, "select * from no_such_table");
    await expect.poll(() => page.locator("#sql-error").innerText()).toMatch(/Catalog Error: Table with name no_such_table does not exist/);
    await run(page, "select count(*) as n from events");
    await expect.poll(() => page.locator("#sql-count").getAttribute("data-rows")).toBe("1");
    expect(await page.locator("main .observablehq--error").count()).toBe(0);
    expectClean(problems);
    await page.close();
  });
});

describe("/costs", () => {
  it("bills per device per day like `hwledger costs`, and the sliders change owned costs like its flags", async () => {
    const { page, problems } = await site.open("/costs");
    await page.waitForSelector("#bill");
    const shown = async () => (await rowData(page, "#bill tbody tr")).map((r) => [r.period, r.device, r.cost === "" ? null : Number(r.cost)]);
    const cli = (args: string[] = []) => runCliJson<Array<{ period: string; device: string; cost: number | null }>>(["costs", "--ledger", TEST_LEDGER, ...args]).map((r) => [r.period, r.device, r.cost]);
    expect(await shown()).toEqual(cli());
    // The L40S is owned (purchase price snapshot): lower utilization spreads depreciation over fewer hours.
    const before = await page.locator('#bill tr[data-device="GPU-l40s-1"]').getAttribute("data-cost");
    await setInput(page, "util", 0.25);
    await expect.poll(() => page.locator('#bill tr[data-device="GPU-l40s-1"]').getAttribute("data-cost")).not.toBe(before);
    expect(await shown()).toEqual(cli(["--utilization", "0.25"]));
    await setInput(page, "life", 2);
    await setInput(page, "elec", 0.3);
    await expect.poll(async () => JSON.stringify(await shown())).toBe(JSON.stringify(cli(["--utilization", "0.25", "--lifespan-years", "2", "--electricity", "0.3"])));
    await expect.poll(() => Object.fromEntries(new URL(page.url()).searchParams)).toMatchObject({ util: "0.25", life: "2", elec: "0.3" });
    // Cost per million tokens: owned, on-demand and spot rows, each = price per hour / (tokens/s × 3600) × 1e6.
    const perM = await rowData(page, "#permillion tbody tr");
    expect(new Set(perM.map((r) => r.pricing))).toEqual(new Set(["owned", "on-demand", "spot"]));
    // Exact figures from the row's data, the shown ones as money ("$0.34/h", "$1.23").
    const cells = await page.locator("#permillion tbody tr").evaluateAll((trs) => trs.map((tr) => ({ ...(tr as HTMLElement).dataset, text: [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "") }) as Record<string, string | undefined> & { text: string[] }));
    for (const c of cells.slice(0, 5)) {
      const tps = Number(c.tps);
      const perHour = Number(c.perHour);
      expect(Number(c.perMillion)).toBeCloseTo((perHour / (tps * 3600)) * 1e6, 6);
      expect(c.text[4]).toMatch(/^\$\d+\.\d+\/h$/);
      expect(c.text[5]).toMatch(/^\$\d+(\.\d+)?$/);
      expect(Number(c.text[5].slice(1))).toBeCloseTo(Number(c.perMillion), 1);
    }
    expect(await page.locator("#chart-permillion svg circle").count()).toBe(perM.length);
    expectClean(problems);
    await page.close();
  });
});

describe("/dispatch", () => {
  it("ranks and rejects exactly like `hwledger dispatch --json` (fleet from the same ledger), with the state in the URL", async () => {
    const q = "?model=llama-3.1-8b-instruct&ctx=8192&seqs=2&tokens=200000&budget=0.2";
    const { page, problems } = await site.open(`/dispatch${q}`);
    await page.waitForSelector("#ranked");
    const cli = runCliJson(["dispatch", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--context", "8192", "--seqs", "2", "--tokens", "200000", "--budget", "0.2", "--ledger", TEST_LEDGER, "--no-record"]);
    expect(await page.locator("#top .big").getAttribute("data-id")).toBe(cli.candidates[0].id);
    const ranked = await rowData(page, "#ranked tbody tr");
    expect(ranked.map((r) => r.id)).toEqual(cli.candidates.map((c: { id: string }) => c.id));
    expect(ranked.map((r) => (r.cost === "" ? null : Number(r.cost)))).toEqual(cli.candidates.map((c: { cost: number | null }) => c.cost));
    expect(ranked.map((r) => Number(r.seconds))).toEqual(cli.candidates.map((c: { seconds: number }) => c.seconds));
    expect(ranked.some((r) => r.id.startsWith("fleet:"))).toBe(true);
    const rejected = await page.locator("#rejected-table tbody tr").evaluateAll((trs) => trs.map((tr) => [(tr as HTMLElement).dataset.id, tr.querySelectorAll("td")[2].textContent]));
    expect(rejected).toEqual(cli.rejected.map((r: { id: string; reason: string }) => [r.id, r.reason]));
    expect(rejected.some(([, reason]) => reason!.startsWith("over budget"))).toBe(true);
    expect(await page.locator("#chart-dispatch svg circle").count()).toBeGreaterThan(2);

    // Changing a control re-ranks (spot prices) and lands in the URL; reopening the URL gives the same ranking.
    await page.locator("#spot input").check();
    const cliSpot = runCliJson(["dispatch", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--context", "8192", "--seqs", "2", "--tokens", "200000", "--budget", "0.2", "--spot", "--ledger", TEST_LEDGER, "--no-record"]);
    await expect.poll(() => page.locator("#top .big").getAttribute("data-id")).toBe(cliSpot.candidates[0].id);
    const url = new URL(page.url());
    expect(url.searchParams.get("spot")).toBe("1");
    const { page: again, problems: p2 } = await site.open(url.pathname + url.search);
    await again.waitForSelector("#ranked");
    expect((await rowData(again, "#ranked tbody tr")).map((r) => r.id)).toEqual(cliSpot.candidates.map((c: { id: string }) => c.id));
    expectClean(problems);
    expectClean(p2);
    await page.close();
    await again.close();
  });
});

describe("/split", () => {
  it("splits like `hwledger split --json`: layer ranges, memory, tokens/s, commands and what moves without a device", async () => {
    const devs = "rtx-4090,rtx-3090,a100-sxm4-80gb";
    const { page, problems } = await site.open(`/split?model=llama-3.1-70b-instruct&engine=llama.cpp&weights=Q4_K_M&ctx=4096&dev=${devs}&without=rtx-3090`);
    await page.waitForSelector("#assignments");
    const cli = runCliJson(["split", "--model", "meta-llama/Llama-3.1-70B-Instruct", "--engine", "llama.cpp", "--weights", "Q4_K_M", "--context", "4096", "--devices", devs, "--without", "rtx-3090"]);
    type A = { device: string; layerStart: number; layerEnd: number; memoryBytes: number };
    const asg = (await rowData(page, "#assignments tbody tr")).map((r) => [r.device, Number(r.start), Number(r.end), Number(r.bytes)]);
    expect(asg).toEqual(cli.before.assignments.map((a: A) => [a.device, a.layerStart, a.layerEnd, a.memoryBytes]));
    expect(Number(await page.locator("#tps").getAttribute("data-tps"))).toBe(cli.before.tokensPerSecond);
    expect(Number(await page.locator("#pipeline-tps").getAttribute("data-tps"))).toBe(cli.before.pipelineTokensPerSecond);
    expect(await page.locator("#cmd-llamaCpp").innerText()).toBe(cli.before.commands.llamaCpp.join("\n"));
    expect(await page.locator("#cmd-vllm").innerText()).toBe(cli.before.commands.vllm.join("\n"));
    const moves = (await rowData(page, "#migration tbody tr")).map((m) => ({ layerStart: Number(m.start), layerEnd: Number(m.end), from: m.from, to: m.to }));
    expect(moves).toEqual(cli.migration);
    expect(moves.length).toBeGreaterThan(0);
    expect(await page.locator("#chart-split svg rect").count()).toBeGreaterThanOrEqual(3 * 4);

    // Too little memory: a clear message, no broken page.
    await page.locator("#weights select").selectOption({ label: "bf16" });
    await expect.poll(() => page.locator("#split-error").innerText()).toMatch(/does not fit on rtx-4090, rtx-3090, a100-sxm4-80gb: needs [\d.]+ GiB/);
    expect(await page.locator("main .observablehq--error").count()).toBe(0);
    expect(new URL(page.url()).searchParams.get("weights")).toBe("bf16");
    expectClean(problems);
    await page.close();
  });
});
