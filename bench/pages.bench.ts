// Page figures: site_build_s (clean Framework build), dist_bytes, and slider_p50_ms / slider_p95_ms: moving the
// what-if context slider (50 moves) to the re-rendered, laid-out stacked-bar chart, in real Chromium.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { catalogEntries } from "../loaders/catalog.js";
import { buildSite, DIST } from "../scripts/build-site.js";
import { startSite } from "../test/helpers/browser.js";
import { ensureTestLedger } from "../test/helpers/fleet-ledger.js";
import type { BenchFigure } from "./run.js";

function bytesUnder(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = statSync(p);
    n += st.isDirectory() ? bytesUnder(p) : st.size;
  }
  return n;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

export async function run(): Promise<BenchFigure[]> {
  // A full build with the same inputs the page tests use (so startSite below finds it fresh).
  const buildS = buildSite({ quiet: true, ledger: await ensureTestLedger() });
  const dist = bytesUnder(DIST);
  const site = await startSite();
  try {
    const slug = catalogEntries()[0].slug;
    const { page } = await site.open(`/what-if?model=${slug}&engine=vllm&ctx=4096&seqs=1&tp=1&dev=h100-sxm-80gb,rtx-4090`);
    await page.waitForSelector("#chart-bar .hw-bars");
    const times = await page.evaluate(async () => {
      const form = document.getElementById("ctx")!;
      const range = form.querySelector("input[type=range]") as HTMLInputElement;
      const chart = document.getElementById("chart-bar")!;
      const lo = Number(range.min);
      const hi = Number(range.max);
      const out: number[] = [];
      for (let i = 0; i < 50; i++) {
        // 50 distinct positions along the (log) slider, alternating ends so every move changes the plan.
        const x = lo + ((hi - lo) * ((i * 37) % 50 + 0.5)) / 50;
        const changed = new Promise<void>((res) => {
          const mo = new MutationObserver(() => {
            mo.disconnect();
            res();
          });
          mo.observe(chart, { childList: true, subtree: true });
        });
        const t0 = performance.now();
        range.value = String(x);
        range.dispatchEvent(new Event("input", { bubbles: true }));
        await changed;
        // The runtime displays every dirty cell in one pass; let it finish, then force layout of the new chart.
        await new Promise((r) => setTimeout(r, 0));
        chart.getBoundingClientRect();
        out.push(performance.now() - t0);
      }
      return out;
    });
    return [
      { name: "slider_p50_ms", value: +quantile(times, 0.5).toFixed(1), unit: "ms" },
      { name: "slider_p95_ms", value: +quantile(times, 0.95).toFixed(1), unit: "ms" },
      { name: "site_build_s", value: +buildS.toFixed(2), unit: "s" },
      { name: "dist_bytes", value: dist, unit: "bytes" },
    ];
  } finally {
    await site.close();
  }
}
