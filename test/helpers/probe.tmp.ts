import { startSite } from "./browser.js";
import { catalogEntries } from "../../loaders/catalog.js";
const site = await startSite();
for (const e of catalogEntries()) {
  for (const path of [`/reports/${e.slug}`, `/what-if?model=${e.slug}&engine=vllm&ctx=4096&dev=h100-sxm-80gb`]) {
    const { page, problems } = await site.open(path);
    await page.waitForTimeout(150);
    const errs = await page.locator(".hw-error, .observablehq--error").allInnerTexts();
    const bad = problems.consoleErrors.length + problems.failedRequests.length + problems.offMachine.length;
    if (errs.length || bad) console.log(path, JSON.stringify(errs).slice(0, 300), bad ? JSON.stringify(problems).slice(0, 300) : "");
    await page.close();
  }
}
console.log("done");
await site.close();
