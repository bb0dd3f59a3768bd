import { startSite } from "/work/main/test/helpers/browser.js";
const site = await startSite();
for (const p of ["/", "/what-if", "/compare", "/fit-matrix", "/evidence", "/reports/", "/reports/qwen3-8b"]) {
  const t = Date.now();
  const { page, problems } = await site.open(p);
  await page.waitForTimeout(500);
  const txt = (await page.locator("main").innerText()).slice(0, 300).replace(/\n+/g, " | ");
  console.log(p, Date.now() - t, "ms", JSON.stringify(problems), "\n   ", txt);
  await page.close();
}
await site.close();
