import { startSite } from "./browser.js";
const site = await startSite();
for (const [path, name, scheme] of [["/what-if?model=gemma-3-27b-it&engine=vllm&ctx=32768&seqs=2&tp=1&dev=h100-sxm-80gb,rtx-4090", "whatif-light", "light"], ["/what-if?model=gemma-3-27b-it&engine=vllm&ctx=32768&seqs=2&tp=1&dev=h100-sxm-80gb,rtx-4090", "whatif-dark", "dark"], ["/compare", "compare", "light"], ["/fit-matrix", "fit", "dark"], ["/reports/qwen3-8b", "report", "light"], ["/evidence", "evidence", "light"]] as const) {
  const { page, problems } = await site.open(path, { colorScheme: scheme });
  await page.waitForTimeout(500);
  await page.screenshot({ path: `/tmp/shot-${name}.png`, fullPage: true });
  console.log(name, JSON.stringify(problems));
}
await site.close();
