// Real headless Chromium (Debian's /usr/bin/chromium via playwright-core) against the built site, served by the
// same server as `npm start`. Records every console error, failed request and request off 127.0.0.1.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { BrowserContext, Page } from "playwright-core";
import { buildSite, DIST } from "../../scripts/build-site.js";
import { serve } from "../../scripts/serve.js";
import { ensureTestLedger } from "./fleet-ledger.js";

export const CHROMIUM = "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps calling home (offline-facts.md).
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"];

/** Builds dist/ unless it is newer than every input (buildSite serializes builds across workers). */
export async function ensureSite(): Promise<void> {
  // Site tests build with the fixed test ledger for the fleet pages (test/helpers/fleet-ledger.ts).
  const ledger = await ensureTestLedger();
  buildSite({ quiet: true, ifStale: true, ledger });
}

export interface Problems {
  consoleErrors: string[];
  failedRequests: string[];
  offMachine: string[];
}

export interface Site {
  url: string;
  context: BrowserContext;
  /** Opens a page with problem recording. */
  open(path: string, opts?: { colorScheme?: "light" | "dark" }): Promise<{ page: Page; problems: Problems }>;
  close(): Promise<void>;
}

export async function startSite(): Promise<Site> {
  await ensureSite();
  const server = await serve({ dir: DIST });
  const profile = mkdtempSync(join(tmpdir(), "hwledger-chromium-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1280, height: 900 } });
  const host = new URL(server.url).host;
  return {
    url: server.url,
    context,
    async open(path, opts = {}) {
      const page = await context.newPage();
      if (opts.colorScheme) await page.emulateMedia({ colorScheme: opts.colorScheme });
      const problems: Problems = { consoleErrors: [], failedRequests: [], offMachine: [] };
      page.on("console", (m) => {
        if (m.type() === "error") problems.consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => problems.consoleErrors.push(String(e)));
      page.on("requestfailed", (r) => problems.failedRequests.push(`${r.url()} ${r.failure()?.errorText ?? ""}`));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.failedRequests.push(`${r.url()} ${r.status()}`);
      });
      page.on("request", (r) => {
        const u = new URL(r.url());
        if ((u.protocol === "http:" || u.protocol === "https:") && u.host !== host) problems.offMachine.push(r.url());
      });
      await page.goto(server.url + path, { waitUntil: "networkidle" });
      return { page, problems };
    },
    async close() {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Sets an Observable Inputs control (range/number/select/textarea) inside the form with this id, as a user would. */
export async function setInput(page: Page, formId: string, value: string | number): Promise<void> {
  await page.evaluate(
    ({ formId, value }) => {
      const form = document.getElementById(formId)!;
      const el = (form.querySelector("input[type=number]") ?? form.querySelector("select") ?? form.querySelector("textarea") ?? form.querySelector("input")) as HTMLInputElement;
      el.value = String(value);
      el.dispatchEvent(new Event("input", { bubbles: true }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
    },
    { formId, value },
  );
}
