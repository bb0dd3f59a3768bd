// The workbench site in real headless Chromium (Debian chromium + playwright-core), built once and served by the
// same server as `npm start`. Pages must load with no console error, no failed request and nothing off the
// machine; the what-if figures must equal `hwledger plan --json` for the same inputs.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { catalogEntries } from "../loaders/catalog.js";
import { makeDeployment, maxContext, modelFromHfConfig } from "../lib/calc/index.js";
import { catalogConfig } from "../loaders/catalog.js";
import { DIST, ROOT } from "../scripts/build-site.js";
import { resolveFile } from "../scripts/serve.js";
import { runCliJson } from "./helpers/cli.js";
import { setInput, startSite } from "./helpers/browser.js";
import type { Site } from "./helpers/browser.js";
import { engine, exportCommands } from "../plugins/engines.js";

const GIB = 1024 ** 3;
let site: Site;

beforeAll(async () => {
  site = await startSite();
}, 420_000);
afterAll(async () => {
  await site?.close();
});

const entries = catalogEntries();
// The what-if checks move the context up to 32768: use the first catalog model whose window allows that.
const first = entries.find((e) => {
  try {
    return modelFromHfConfig(catalogConfig(e), e.id).maxContext >= 32768;
  } catch {
    return false;
  }
})!;

async function figures(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const el of document.querySelectorAll<HTMLElement>(".hw-figure")) out[el.id] = Number(el.dataset.bytes);
    return out;
  });
}

/** The page's figures next to the CLI's plan for the same inputs. */
function cliFigures(args: string[]): Record<string, number> {
  const p = runCliJson(["plan", ...args]);
  return {
    "fig-weights": p.memory.weightsBytes,
    "fig-kv": p.memory.kvCacheBytes,
    "fig-activations": p.memory.activationBytes,
    "fig-overhead": p.memory.overheadBytes,
    "fig-total": p.memory.totalBytes,
    "fig-per-gpu": Math.max(...p.devices.map((d: { totalBytes: number }) => d.totalBytes)),
  };
}

/** Changes a control and waits until the figures and the bar chart have both re-rendered. */
async function move(page: Page, id: string, value: number | string): Promise<void> {
  const snap = () => [document.querySelector("#figures")?.innerHTML, document.querySelector("#chart-bar")?.innerHTML];
  const before = await page.evaluate(snap);
  await setInput(page, id, value);
  await page.waitForFunction(
    ([f, c]) => document.querySelector("#figures")?.innerHTML !== f && document.querySelector("#chart-bar")?.innerHTML !== c,
    before,
    { timeout: 10_000 },
  );
}

function expectClean(problems: { consoleErrors: string[]; failedRequests: string[]; offMachine: string[] }): void {
  expect(problems.consoleErrors).toEqual([]);
  expect(problems.failedRequests).toEqual([]);
  expect(problems.offMachine).toEqual([]);
}

describe("site", () => {
  it("has a catalog to show (the pages are built from it)", () => {
    expect(entries.length).toBeGreaterThan(0);
    expect(first).toBeDefined();
  });

  it("builds every route, including one report per catalog model, reachable by clean URL", () => {
    for (const r of ["/", "/what-if", "/compare", "/fit-matrix", "/evidence", "/reports/"]) expect(resolveFile(DIST, r), r).toBeDefined();
    for (const e of entries) expect(existsSync(`${DIST}/reports/${e.slug}.html`), e.slug).toBe(true);
    expect(resolveFile(DIST, "/../package.json")).toBeUndefined();
    // No `npm:` import was resolved from a CDN: every library is bundled from node_modules (dist/_node).
    expect(existsSync(`${DIST}/_npm`)).toBe(false);
    expect(existsSync(`${DIST}/_node`)).toBe(true);
  });

  it("the built /evidence data names no path of the machine it was built on", () => {
    const files = readdirSync(`${DIST}/_file/data`).filter((f) => /^evidence\.[0-9a-f]+\.json$/.test(f));
    expect(files).toHaveLength(1);
    const text = readFileSync(`${DIST}/_file/data/${files[0]}`, "utf8") + readFileSync(`${DIST}/evidence.html`, "utf8");
    for (const p of [ROOT, ROOT.replace(/\/$/, ""), homedir(), "/work/", "/home/", "/tmp/"]) expect(text.includes(p), p).toBe(false);
    // Logs are named relative to data/evidence/logs; sources are URLs or owner/repo#N.
    const data = JSON.parse(readFileSync(`${DIST}/_file/data/${files[0]}`, "utf8"));
    for (const r of data.rows) expect(r.source.log).toMatch(/^[\w.+-]+$/);
  });

  const routes = ["/", "/what-if", "/compare", "/fit-matrix", "/evidence", "/reports/", ...entries.slice(0, 3).map((e) => `/reports/${e.slug}`)];
  for (const route of routes) {
    it(`${route} loads with no console error, no failed request, nothing off the machine`, async () => {
      const { page, problems } = await site.open(route);
      await page.waitForTimeout(200);
      const text = await page.locator("main").innerText();
      expect(text.length).toBeGreaterThan(100);
      expect(text).not.toMatch(/\bnull\b|undefined|RuntimeError|SyntaxError/);
      expect(await page.locator("main .observablehq--error").count()).toBe(0);
      expectClean(problems);
      await page.close();
    });
  }

  it("every catalog model appears in the fit matrix and the reports index", async () => {
    const { page, problems } = await site.open("/fit-matrix");
    const rows = await page.locator("#matrix tbody tr").evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.model));
    expect(rows).toEqual(entries.map((e) => e.slug));
    // The H100 cell of the first model is `hwledger fit --device h100-sxm-80gb` (the engine's answer, default context).
    const want = runCliJson(["fit", "--model", first.id, "--engine", "vllm", "--device", "h100-sxm-80gb", "--json"]).maxContext;
    const cell = page.locator(`#matrix tbody tr[data-model="${first.slug}"] [data-device="h100-sxm-80gb"]`);
    expect(Number(await cell.getAttribute("data-max-context"))).toBe(want);
    const { page: idx } = await site.open("/reports/");
    expect(await idx.locator("#reports li").count()).toBe(entries.length);
    expectClean(problems);
    await page.close();
    await idx.close();
  });

  it("is readable in the dark theme (light text on a dark background)", async () => {
    const { page, problems } = await site.open("/what-if", { colorScheme: "dark" });
    const [bg, fg] = await page.evaluate(() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]);
    const lum = (c: string) => c.match(/\d+/g)!.slice(0, 3).map(Number).reduce((a, b) => a + b, 0) / 3;
    expect(lum(bg)).toBeLessThan(80);
    expect(lum(fg)).toBeGreaterThan(150);
    expectClean(problems);
    await page.close();
  });
});

describe("/what-if", () => {
  it("each slider changes the chart and the figures, which equal hwledger plan --json", async () => {
    const q = `?model=${first.slug}&engine=vllm&kv=f16&ctx=8192&seqs=1&tp=1&dev=h100-sxm-80gb,rtx-4090`;
    const { page, problems } = await site.open(`/what-if${q}`);
    await page.waitForSelector("#fig-total");
    const base = ["--model", first.id, "--engine", "vllm", "--kv-dtype", "f16"];
    expect(await figures(page)).toEqual(cliFigures([...base, "--context", "8192"]));

    await move(page, "ctx", 32768);
    expect(await figures(page)).toEqual(cliFigures([...base, "--context", "32768"]));
    expect(await page.locator("#chart-kv .hw-context-marker").getAttribute("data-context")).toBe("32768");
    await move(page, "seqs", 4);
    expect(await figures(page)).toEqual(cliFigures([...base, "--context", "32768", "--seqs", "4"]));
    await move(page, "tp", 2);
    expect(await figures(page)).toEqual(cliFigures([...base, "--context", "32768", "--seqs", "4", "--tp", "2"]));

    const model = modelFromHfConfig(catalogConfig(first), first.id);
    const dep = makeDeployment(model, { engine: engine("vllm"), kvDtype: "f16", context: 32768, seqs: 4, tp: 2 });
    // Capacity per device is `hwledger fit --device` for the same deployment (the engine's own accounting).
    // The capacity table follows a move by a frame (the engine's fit per device runs after the figures are drawn).
    const fits = () => page.locator("#fits tbody tr").evaluateAll((trs) => trs.map((tr) => [(tr as HTMLElement).dataset.device, Number((tr as HTMLElement).dataset.maxContext)]));
    const fitOf = (device: string) => runCliJson(["fit", ...base, "--context", "32768", "--seqs", "4", "--tp", "2", "--device", device, "--json"]).maxContext;
    await expect.poll(fits, { timeout: 10_000 }).toEqual([
      ["h100-sxm-80gb", fitOf("h100-sxm-80gb")],
      ["rtx-4090", fitOf("rtx-4090")],
    ]);

    // The state is in the URL; reopening it restores the controls and the same figures.
    await page.waitForFunction(() => location.search.includes("tp=2"));
    const url = new URL(page.url());
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ model: first.slug, ctx: "32768", seqs: "4", tp: "2", dev: "h100-sxm-80gb,rtx-4090" });
    const shown = await figures(page);
    const { page: again, problems: p2 } = await site.open(url.pathname + url.search);
    await again.waitForSelector("#fig-total");
    expect(await figures(again)).toEqual(shown);
    expect(await again.locator("#ctx input[type=number]").inputValue()).toBe("32768");
    expect(await again.locator("#seqs input[type=number]").inputValue()).toBe("4");
    expect(await again.locator("#tp input[type=number]").inputValue()).toBe("2");
    // The export panel shows what `hwledger export` prints for the same deployment (one builder: the engine plugin's).
    expect(await again.locator("#export pre").first().innerText()).toBe(exportCommands(model.id, dep).commands[0].command);
    expectClean(problems);
    expectClean(p2);
    await page.close();
    await again.close();
  });

  it("llama.cpp: the GPU-layers slider and flash-attention toggle give the figures of plan --gpu-layers N --flash-attn", async () => {
    const q = `?model=${first.slug}&engine=llama.cpp&weights=Q4_K_M&kv=f16&ctx=8192&seqs=1&tp=1&dev=rtx-4090&ngl=10&fa=off`;
    const { page, problems } = await site.open(`/what-if${q}`);
    await page.waitForSelector("#buffers");
    const base = ["--model", first.id, "--engine", "llama.cpp", "--weights", "Q4_K_M", "--kv-dtype", "f16", "--context", "8192"];
    expect(await figures(page)).toEqual(cliFigures([...base, "--gpu-layers", "10", "--flash-attn", "off"]));
    expect(await page.locator("#buffers tbody tr").evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.device))).toEqual(["CUDA0", "CPU"]);
    expect(await page.locator("#llamacpp input[type=number]").first().inputValue()).toBe("10");
    const before = await page.evaluate(() => document.querySelector("#figures")?.innerHTML);
    await page.locator("#llamacpp").getByRole("checkbox", { name: "Flash attention" }).click();
    await page.waitForFunction((f) => document.querySelector("#figures")?.innerHTML !== f, before, { timeout: 10_000 });
    expect(await figures(page)).toEqual(cliFigures([...base, "--gpu-layers", "10"]));
    expectClean(problems);
    await page.close();
  });

  it("a pasted config.json plans like the CLI given that file", async () => {
    const file = `loaders/catalog/configs/${first.file}`;
    const cfg = Buffer.from(readFileSync(file, "utf8")).toString("base64url");
    const { page, problems } = await site.open(`/what-if?cfg=${cfg}&engine=vllm&kv=f16&ctx=4096&seqs=2&tp=1&dev=h100-sxm-80gb`);
    await page.waitForSelector("#fig-total");
    expect(await page.locator("#config textarea").inputValue()).toContain("model_type");
    expect(await figures(page)).toEqual(cliFigures(["--model", file, "--engine", "vllm", "--kv-dtype", "f16", "--context", "4096", "--seqs", "2"]));
    expectClean(problems);
    await page.close();
  });

  it("a bad pasted config shows a clear message, not a broken page", async () => {
    const { page, problems } = await site.open(`/what-if?model=${first.slug}`);
    await page.waitForSelector("#fig-total");
    await page.locator("#source input").nth(1).check();
    await page.waitForSelector("#config textarea");
    await setInput(page, "config", '{"model_type": "llama", "hidden_size": 4096');
    await expect.poll(() => page.locator("#model-error").innerText()).toMatch(/^pasted text: malformed config\.json/);
    await setInput(page, "config", '{"model_type": "not-a-family", "hidden_size": 64}');
    await expect.poll(() => page.locator("#model-error").innerText()).toMatch(/unknown model_type "not-a-family".*needs num_hidden_layers, num_attention_heads, intermediate_size, vocab_size/);
    expect(await page.locator("#fig-total").count()).toBe(0);
    expect(await page.locator("main .observablehq--error").count()).toBe(0);
    // Fixing the config brings the plan back.
    await setInput(page, "config", readFileSync(`loaders/catalog/configs/${first.file}`, "utf8"));
    await page.waitForSelector("#fig-total");
    expectClean(problems);
    await page.close();
  });
});
