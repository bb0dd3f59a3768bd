// The whole built site as a reader gets it, in real headless Chromium: no page wider than a 1,400 px window, the
// JavaScript /what-if loads stays small (DuckDB-wasm only on /sql), no path of the build machine anywhere in dist/,
// and a screenshot of every page in the README's map (UPDATE_SCREENSHOTS=1 writes them to docs/screenshots/).
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIST, ROOT } from "../scripts/build-site.js";
import { chromium } from "playwright-core";
import { CHROMIUM, startSite } from "./helpers/browser.js";
import type { Site } from "./helpers/browser.js";
import { TEST_LEDGER } from "./helpers/fleet-ledger.js";
import { scratchDir } from "./helpers/hermetic.js";

let site: Site;
beforeAll(async () => {
  site = await startSite();
}, 600_000);
afterAll(async () => {
  await site?.close();
});

/** Every file under dist/, relative. */
function files(dir = DIST): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : [relative(DIST, p)];
  });
}

/** Every page of the built site as a clean URL ("/", "/what-if", "/reports/llama-2-7b", …). */
function routes(): string[] {
  return files()
    .filter((f) => f.endsWith(".html") && !f.startsWith("_"))
    .map((f) => "/" + f.replace(/\.html$/, "").replace(/(^|\/)index$/, "$1"))
    .sort();
}

describe("nothing of the build machine in dist/", () => {
  it("no absolute path of this checkout, the home folder, the user or the ledger in any text file", () => {
    const user = userInfo();
    // The real home and user (from the password database: HOME is a temporary folder in the tests).
    const needles = [ROOT, ROOT.replace(/\/$/, ""), dirname(ROOT.replace(/\/$/, "")) + "/", user.homedir + "/", `/home/${user.username}/`, TEST_LEDGER, process.env.HWLEDGER_LEDGER!, "/work/", "/tmp/"];
    const hits: string[] = [];
    for (const f of files()) {
      // duckdb-wasm's binary carries its own CI's build paths (/work/duckdb-wasm/…): a third-party binary, not text we write.
      if (f.endsWith(".wasm")) continue;
      const text = readFileSync(join(DIST, f), "utf8");
      for (const n of needles) if (text.includes(n)) hits.push(`${f}: ${n}`);
    }
    expect(hits).toEqual([]);
  });
});

describe("every page fits a 1,400 px window", () => {
  it("scrollWidth ≤ clientWidth on every page of the built site", async () => {
    const all = routes();
    expect(all.length).toBeGreaterThan(10);
    const widths: Array<{ route: string; scroll: number; client: number }> = [];
    for (const route of all) {
      const page = await site.context.newPage();
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.goto(site.url + route, { waitUntil: "networkidle" });
      // Charts size themselves to the window once laid out (resize()): on a loaded machine that can take a moment, so
      // a page that is too wide is measured again after its layout has settled.
      const measure = () => page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      await page.waitForTimeout(150);
      let w = await measure();
      for (let i = 0; i < 10 && w.scroll > w.client; i++) {
        await page.waitForTimeout(300);
        w = await measure();
      }
      widths.push({ route, ...w });
      await page.close();
    }
    const widest = widths.reduce((a, b) => (b.scroll > a.scroll ? b : a));
    console.log(`widest page: ${widest.route} ${widest.scroll} px in a ${widest.client} px window`);
    expect(widths.filter((w) => w.scroll > w.client)).toEqual([]);
  }, 600_000);
});

describe("/what-if stays light", () => {
  it("loads under 600 KB of JavaScript, and no DuckDB-wasm", async () => {
    const page = await site.context.newPage();
    const scripts = new Map<string, number>();
    page.on("response", async (r) => {
      const url = r.url();
      const type = r.request().resourceType();
      if (type === "script" || /\.m?js(\?|$)/.test(url)) scripts.set(url, (await r.body().catch(() => Buffer.alloc(0))).length);
    });
    await page.goto(site.url + "/what-if", { waitUntil: "networkidle" });
    await page.waitForSelector("#figures");
    await page.waitForTimeout(300);
    const total = [...scripts.values()].reduce((a, b) => a + b, 0);
    console.log(`/what-if JavaScript: ${total} bytes in ${scripts.size} files`);
    expect([...scripts.keys()].filter((u) => /duckdb/i.test(u))).toEqual([]);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(600 * 1024);
    await page.close();
  });
});

describe("/what-if says what is wrong", () => {
  it("a bad URL shows one message per parameter with the default used; a typed -5 is said, not silently kept", async () => {
    const { page, problems } = await site.open("/what-if?model=nope&engine=bogus&ctx=-3&dev=rtx-4090");
    await page.waitForSelector("#url-problems");
    const lines = await page.locator("#url-problems li").allInnerTexts();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^model "nope" is not in the catalog: using llama-3\.1-8b-instruct$/);
    expect(lines[1]).toMatch(/^engine "bogus" is not one of .*: using vllm$/);
    expect(lines[2]).toMatch(/^context "-3" is not a whole number ≥ 1: using 8,192$/);
    expect(await page.locator("#model-summary").innerText()).toContain("Llama-3.1-8B-Instruct");
    await page.waitForSelector("#figures");
    const before = await page.locator("#figures").innerHTML();
    const box = page.locator("#ctx input[type=number]");
    await box.fill("-5");
    await box.dispatchEvent("input");
    const msg = page.locator("#ctx .hw-input-error");
    await msg.waitFor({ state: "visible" });
    expect(await msg.innerText()).toMatch(/^context -5 is outside 1–131,072 tokens: the figures below are still for 8,192 tokens\.$/);
    expect(await page.locator("#figures").innerHTML()).toBe(before);
    await box.fill("4096");
    await box.dispatchEvent("input");
    await msg.waitFor({ state: "hidden" });
    expect(problems.consoleErrors).toEqual([]);
    await page.close();
  });

  it("the device picker finds a device by typing part of its name", async () => {
    const { page } = await site.open("/what-if?model=llama-3.1-8b-instruct&engine=vllm&dev=rtx-4090");
    await page.waitForSelector("#fits");
    const input = page.locator("#devices input[type=search]");
    await input.fill("H100 SXM");
    await input.press("Enter");
    await page.waitForSelector('#fits tr[data-device="h100-sxm-80gb"]');
    expect(await page.locator("#devices .hw-chip").evaluateAll((b) => b.map((x) => (x as HTMLElement).dataset.id))).toEqual(["rtx-4090", "h100-sxm-80gb"]);
    await page.locator('#devices .hw-chip[data-id="rtx-4090"]').click();
    await page.waitForSelector('#fits tr[data-device="rtx-4090"]', { state: "detached" });
    await page.close();
  });
});

// The README's map of the pages: one screenshot each, 1,400 × 900 at half scale (small PNGs).
const SHOTS: Array<[string, string]> = [
  ["/what-if?model=llama-3.1-8b-instruct&engine=vllm&ctx=8192&dev=rtx-4090,h100-sxm-80gb", "what-if"],
  ["/compare", "compare"],
  ["/fit-matrix", "fit-matrix"],
  ["/evidence", "evidence"],
  ["/fleet", "fleet"],
  ["/costs", "costs"],
  ["/dispatch", "dispatch"],
  ["/split", "split"],
  ["/sql", "sql"],
];

describe("screenshots", () => {
  it("every page of the README's map renders a non-blank screenshot", async () => {
    const out = process.env.UPDATE_SCREENSHOTS ? join(ROOT, "docs", "screenshots") : scratchDir("shots-");
    mkdirSync(out, { recursive: true });
    // A browser of its own: the shared context cannot change its scale factor.
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"], headless: true });
    const p = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 0.5 });
    for (const [route, name] of SHOTS) {
      await p.goto(site.url + route, { waitUntil: "networkidle" });
      await p.waitForTimeout(400);
      const png = await p.screenshot({ type: "png" });
      expect(png.length, name).toBeGreaterThan(5_000);
      writeFileSync(join(out, `${name}.png`), png);
    }
    await browser.close();
  }, 300_000);
});
