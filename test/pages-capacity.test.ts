// One capacity answer everywhere: the figures /what-if, /fit-matrix, /reports/<slug>, /dispatch and /split show in
// real headless Chromium equal what the CLI prints with --json for the same inputs (`fit --device`, `report`,
// `split`), over 3 models (dense GQA, dense MHA, MoE + sliding window in MXFP4) × vLLM and llama.cpp × 3 devices (a
// 16 GB, a 24 GB and an 80 GB card). The site is built once (test/helpers/browser.ts) and served like `npm start`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { catalogConfig, catalogEntries } from "../loaders/catalog.js";
import { makeDeployment, modelFromHfConfig } from "../lib/calc/index.js";
import { engineDevice } from "../lib/fleet/devices.js";
import { engine } from "../plugins/engines.js";
import { runCliAsync } from "./helpers/cli.js";
import { startSite } from "./helpers/browser.js";
import type { Site } from "./helpers/browser.js";

const MODELS = ["llama-3.1-8b-instruct", "llama-2-7b-hf", "gpt-oss-20b"];
const ENGINES = ["vllm", "llama.cpp"];
const DEVICES = ["rtx-4080", "rtx-4090", "a100-sxm4-80gb"];
/** 8,192 tokens per sequence, or the model's whole window when shorter (Llama 2: 4,096; vLLM refuses more). */
const ctxOf = (slug: string) => (slug === "llama-2-7b-hf" ? 4096 : 8192);
const CTX = 8192;

const idOf = (slug: string) => catalogEntries().find((e) => e.slug === slug)!.id;

async function cliJson<T = any>(args: string[]): Promise<T> {
  const r = await runCliAsync([...args, "--json"], { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`hwledger ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** `fit --device --json`; where the engine would not start (vLLM: no memory left for the KV cache, exit 2 with its reason), zeros. */
async function fitJson(args: string[]): Promise<Fit> {
  const r = await runCliAsync([...args, "--json"], { timeoutMs: 180_000 });
  if (r.code === 2 && /no memory for the KV cache/.test(r.stderr)) return { kvCapacityTokens: 0, maxContext: 0, maxConcurrency: 0, maxSeqs: 0 };
  if (r.code !== 0) throw new Error(`hwledger ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Fit;
}

/** A few CLI runs at a time (the machine is shared; each run is its own process). */
async function pooled<T>(jobs: Array<() => Promise<T>>, width = 3): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  }));
  return out;
}

interface Fit {
  kvCapacityTokens: number;
  maxContext: number;
  maxConcurrency: number;
  maxSeqs: number;
}

let site: Site;
/** `fit --device` at CTX (f16 KV, native weights, one sequence) per model|engine|device. */
const fitAt = new Map<string, Fit>();
/** `report --json` per model|engine. */
const reports = new Map<string, any>();

beforeAll(async () => {
  const fits: Array<() => Promise<void>> = [];
  for (const m of MODELS) for (const e of ENGINES) {
    for (const d of DEVICES) fits.push(async () => void fitAt.set(`${m}|${e}|${d}`, await fitJson(["fit", "--model", idOf(m), "--engine", e, "--kv-dtype", "f16", "--context", String(ctxOf(m)), "--device", d])));
    fits.push(async () => void reports.set(`${m}|${e}`, await cliJson(["report", "--model", idOf(m), "--engine", e, "--no-evidence"])));
  }
  const [s] = await Promise.all([startSite(), pooled(fits)]);
  site = s;
}, 900_000);
afterAll(async () => {
  await site?.close();
});

/** data-* attributes of the elements matching `selector`, keyed by `key`. */
async function attrs(page: Page, selector: string, key: string): Promise<Record<string, Record<string, string | undefined>>> {
  return page.locator(selector).evaluateAll((els, key) => Object.fromEntries(els.map((el) => [(el as HTMLElement).dataset[key]!, { ...(el as HTMLElement).dataset }])), key);
}

describe("one capacity answer on every page", () => {
  it("/what-if: KV capacity, max context and max sequences per device are `hwledger fit --device`'s", async () => {
    for (const m of MODELS) for (const e of ENGINES) {
      const { page, problems } = await site.open(`/what-if?model=${m}&engine=${encodeURIComponent(e)}&kv=f16&ctx=${ctxOf(m)}&seqs=1&tp=1&dev=${DEVICES.join(",")}`);
      await page.waitForSelector(`#fits tbody tr[data-device="${DEVICES.at(-1)}"]`);
      const rows = await attrs(page, "#fits tbody tr", "device");
      for (const d of DEVICES) {
        const f = fitAt.get(`${m}|${e}|${d}`)!;
        expect([m, e, d, Number(rows[d].capacityTokens), Number(rows[d].maxContext), Number(rows[d].maxSeqs)]).toEqual([m, e, d, f.kvCapacityTokens, f.maxContext, f.maxSeqs]);
      }
      expect(problems.consoleErrors).toEqual([]);
      await page.close();
    }
    // The case: Llama 3.1 8B, vLLM, an RTX 4090 at 8,192 tokens: the page no longer says 63,024 but the engine's figure.
    expect(fitAt.get("llama-3.1-8b-instruct|vllm|rtx-4090")!.kvCapacityTokens).toBeLessThan(50_000);
  }, 300_000);

  it("/fit-matrix cells and /reports/<slug> device rows are `hwledger report`'s, which are `hwledger fit --device`'s", async () => {
    // The report's device fits are the fit command's at the model's own window (its default context).
    const check = await fitJson(["fit", "--model", idOf("llama-2-7b-hf"), "--engine", "vllm", "--device", "rtx-4080"]);
    const r0 = reports.get("llama-2-7b-hf|vllm");
    expect(r0.fits.find((f: any) => f.device === "rtx-4080")).toMatchObject({ maxContext: check.maxContext, kvCapacityTokens: check.kvCapacityTokens });
    // The case: Llama 2 7B fp16 on a 16 GB card under vLLM is not "4,096 tokens".
    expect(check.maxContext).toBeLessThan(4096);

    for (const e of ENGINES) {
      const { page, problems } = await site.open("/fit-matrix");
      await page.locator("#engine select").selectOption({ label: e });
      await page.waitForFunction((e) => document.querySelector("#matrix td[title]")?.getAttribute("title")?.includes(`, ${e}:`), e);
      for (const m of MODELS) {
        const r = reports.get(`${m}|${e}`);
        const cells = await attrs(page, `#matrix tr[data-model="${m}"] td[data-device]`, "device");
        for (const d of DEVICES) {
          const want = r.fits.find((f: any) => f.device === d);
          expect([m, e, d, Number(cells[d].maxContext), Number(cells[d].capacityTokens)]).toEqual([m, e, d, want.maxContext, want.kvCapacityTokens]);
        }
      }
      expect(problems.consoleErrors).toEqual([]);
      await page.close();
    }

    for (const m of MODELS) for (const e of ENGINES) {
      const r = reports.get(`${m}|${e}`);
      const { page, problems } = await site.open(`/reports/${m}`);
      if (e !== "vllm") await page.locator("#engine select").selectOption({ label: e });
      await page.waitForFunction((v) => document.querySelector("#verdict")?.textContent?.toLowerCase().includes(v.toLowerCase()), r.verdict);
      const rows = await attrs(page, "#fits tbody tr", "device");
      for (const d of DEVICES) {
        const want = r.fits.find((f: any) => f.device === d);
        expect([m, e, d, Number(rows[d].maxContext), Number(rows[d].capacityTokens)]).toEqual([m, e, d, want.maxContext, want.kvCapacityTokens]);
      }
      // The memory table: the same schemes, engines, figures and n/a cells as the CLI's.
      const schemes = await page.locator("#schemes tbody tr").evaluateAll((trs) => trs.map((tr) => [(tr as HTMLElement).dataset.weights, (tr as HTMLElement).dataset.engine, ...[...tr.querySelectorAll("td[data-bytes]")].map((td) => ((td as HTMLElement).dataset.bytes ? Number((td as HTMLElement).dataset.bytes) : null))]));
      expect(schemes).toEqual(r.memory.map((s: any) => [s.weights, s.engine, ...s.totalBytes]));
      expect(problems.consoleErrors).toEqual([]);
      await page.close();
    }
    // n/a where a scheme does not apply: MXFP4 packs experts only (a dense Llama has none); gpt-oss ships in MXFP4, AWQ is made from 16-bit.
    expect(reports.get("llama-3.1-8b-instruct|vllm").memory.find((s: any) => s.weights === "mxfp4").totalBytes).toEqual([null, null, null]);
    expect(reports.get("gpt-oss-20b|vllm").memory.find((s: any) => s.weights === "awq").notApplicable).toMatch(/published in mxfp4/);
    // GGUF types under llama.cpp only, whatever the report's engine.
    for (const r of reports.values()) for (const s of r.memory) if (/^(Q\d|IQ)/.test(s.weights)) expect(s.engine).toBe("llama.cpp");
  }, 600_000);

  it("/dispatch: each catalog device that fits shows `hwledger fit --device`'s capacity; one that does not is rejected", async () => {
    let compared = 0;
    for (const m of MODELS) for (const e of ENGINES) {
      const { page, problems } = await site.open(`/dispatch?model=${m}&engine=${encodeURIComponent(e)}&ctx=${ctxOf(m)}&seqs=1`);
      await page.waitForSelector("#ranked tbody tr, #rejected-table tbody tr");
      const ranked = await attrs(page, "#ranked tbody tr[data-source=catalog]", "device");
      const rejected = await page.locator("#rejected-table tbody tr").evaluateAll((trs) => Object.fromEntries(trs.map((tr) => [(tr as HTMLElement).dataset.id, tr.textContent ?? ""])));
      for (const d of DEVICES) {
        const f = fitAt.get(`${m}|${e}|${d}`)!;
        if (ranked[d]) {
          expect([m, e, d, ranked[d].engine, Number(ranked[d].capacityTokens), Number(ranked[d].maxContext), Number(ranked[d].maxSeqs)]).toEqual([m, e, d, e, f.kvCapacityTokens, f.maxContext, f.maxSeqs]);
          compared++;
        } else {
          // Rejected: for not fitting only when the engine says the context does not fit.
          const why = rejected[`catalog:${d}`] ?? "";
          expect(why, `${m} ${e} ${d}`).not.toBe("");
          if (/does not fit|no memory/.test(why)) expect(f.maxContext).toBeLessThan(ctxOf(m));
        }
      }
      expect(problems.consoleErrors).toEqual([]);
      await page.close();
    }
    // Most of the 18 model × engine × device cases fit and are compared figure by figure.
    expect(compared).toBeGreaterThanOrEqual(12);
  }, 300_000);

  it("/split: stages and each device's usable memory are `hwledger split --json`'s, on the memory `fit --device` reads", async () => {
    const devs = ["rtx-4090", "rtx-4080"];
    for (const e of ENGINES) {
      const m = "llama-3.1-8b-instruct";
      const cli = await cliJson(["split", "--model", idOf(m), "--engine", e, "--weights", "bf16", "--kv-dtype", "f16", "--context", String(CTX), "--devices", devs.join(",")]);
      const { page, problems } = await site.open(`/split?model=${m}&engine=${encodeURIComponent(e)}&weights=bf16&kv=f16&ctx=${CTX}&seqs=1&dev=${devs.join(",")}`);
      await page.waitForSelector("#assignments tbody tr");
      const rows = await attrs(page, "#assignments tbody tr", "device");
      const model = modelFromHfConfig(catalogConfig(catalogEntries().find((x) => x.slug === m)!), idOf(m));
      const dep = makeDeployment(model, { engine: engine(e), weights: "bf16", context: CTX });
      for (const a of cli.assignments) {
        expect([e, a.device, Number(rows[a.device].start), Number(rows[a.device].end), Number(rows[a.device].capacityBytes)]).toEqual([e, a.device, a.layerStart, a.layerEnd, a.capacityBytes]);
        // The device memory is the one `--device` reads (engineDevice); the engine may use its share of it (vLLM: 0.9).
        expect(a.capacityBytes).toBe(Math.round(engine(e).usableBytes(engineDevice(a.device).memoryBytes, dep)));
      }
      expect(problems.consoleErrors).toEqual([]);
      await page.close();
    }
  }, 300_000);
});
