#!/usr/bin/env node
// npm start: build the site (when its inputs changed) and serve dist/ on 127.0.0.1 with clean URLs.
import { buildSite, DIST } from "./build-site.js";
import { serve } from "./serve.js";

const port = Number(process.env.PORT ?? 3000);
try {
  buildSite({ ifStale: true });
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
const { url } = await serve({ dir: DIST, port }).catch((e) => {
  process.stderr.write(`cannot listen on 127.0.0.1:${port}: ${e.message} (set PORT=…)\n`);
  process.exit(1);
});
process.stdout.write(`hwledger workbench: ${url}/  (what-if: ${url}/what-if)\n`);
