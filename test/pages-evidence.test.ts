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
});
