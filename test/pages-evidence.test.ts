// /evidence in real headless Chromium: the speed chart draws one dot per published speed result with a prediction,
// and the held-out error per device class it shows is loaders/evidence's speedSummaries() of the same rows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evidenceRows, loadEvidence, speedSummaries } from "../loaders/evidence/index.js";
import { startSite } from "./helpers/browser.js";
import type { Site } from "./helpers/browser.js";

let site: Site;
// The site is built once for every page test file: this one may wait for another file's build (a slow, shared machine).
beforeAll(async () => {
  site = await startSite();
}, 600_000);
afterAll(async () => {
  await site?.close();
});

describe("/evidence speed", () => {
  it("plots predicted against measured speed and lists the held-out error per device class", async () => {
    const rows = (await evidenceRows(loadEvidence())).filter((r) => (r.quantity === "prefillTps" || r.quantity === "decodeTps") && r.predicted !== null && r.held);
    const { page, problems } = await site.open("/evidence");
    await page.waitForSelector("#chart-speed svg");
    expect(await page.locator("#chart-speed").innerText()).toContain("Speed: predicted against measured tokens/s");
    expect(await page.locator("#chart-speed svg g[aria-label=dot] > *").count()).toBe(rows.length);
    const shown = await page.locator("#speed-held-out tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent!.trim())));
    const want = speedSummaries(rows).filter((s) => s.engine === "llama.cpp" && s.set === "held-out");
    expect(shown.length).toBe(want.length);
    for (const s of want) {
      const row = shown.find((r) => r.includes(s.deviceClass) && r.includes(s.quantity === "decodeTps" ? "decode" : "prefill"))!;
      expect(row, `${s.deviceClass} ${s.quantity}`).toBeDefined();
      expect(row).toContain(`${s.medianAbsPct.toFixed(1)}%`);
    }
    expect(problems.consoleErrors).toEqual([]);
    expect(problems.failedRequests).toEqual([]);
    expect(problems.offMachine).toEqual([]);
    await page.close();
  });

  it("the figure table fits the page, links every source, marks the set; outliers say why; error bars per engine × architecture", async () => {
    const { page, problems } = await site.open("/evidence");
    await page.waitForSelector("#evidence-table table");
    const width = await page.evaluate(() => ({ table: document.querySelector("#evidence-table")!.getBoundingClientRect().width, main: document.querySelector("main")!.getBoundingClientRect().width }));
    expect(width.table).toBeLessThanOrEqual(width.main + 1);
    const heads = await page.locator("#evidence-table thead th").allInnerTexts();
    for (const h of ["set", "model", "engine", "figure", "reported", "predicted", "error %", "source"]) expect(heads.map((x) => x.trim())).toContain(h);
    const links = await page.locator("#evidence-table tbody a").evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(links.length).toBeGreaterThan(5);
    for (const l of links) expect(l).toMatch(/^https:\/\//);
    expect(await page.locator("#evidence-table .hw-set-held-out").count()).toBeGreaterThan(0);
    // Every figure more than 50% off is listed with a reason; the Nemotron NVFP4 TP=2 ones name the one-worker budget.
    const rows = (await evidenceRows(loadEvidence())).filter((r) => r.errorPct !== null && Math.abs(r.errorPct) > 50);
    expect(await page.locator("#outliers tbody tr").count()).toBe(rows.length);
    const nemotron = page.locator('#outliers tr[data-case="nemotron-3-nano-30b-a3b-nvfp4-tp2-fp8kv-33333"]');
    expect(await nemotron.count()).toBe(2);
    expect(await nemotron.first().innerText()).toMatch(/one worker's of several/);
    expect(await page.locator("main").innerText()).toMatch(/get_kv_cache_configs/);
    await page.waitForSelector("#chart-error-bars svg");
    expect(await page.locator("#chart-error-bars").innerText()).toMatch(/vllm · dense/);
    expect(problems.consoleErrors).toEqual([]);
    await page.close();
  });
});
