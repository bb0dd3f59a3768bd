#!/usr/bin/env node
// zod's browser bundle for the pages without its message locales: zod's entry re-exports every language
// (`z.locales`: 40-odd files, two thirds of the bundle) and no page uses them; zod configures itself with English,
// which stays. Built with Framework's own esbuild (as Framework bundles npm packages: ESM, minified, for browsers)
// and written where Framework looks for zod's bundle before making one: <cache>/zod@<version>/index.js.
// Usage: node scripts/slim-zod.js CACHE_NODE_DIR
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MARK = "/* zod without its locales (scripts/slim-zod.js) */";
const require = createRequire(join(ROOT, "package.json"));
const zodDir = dirname(require.resolve("zod/package.json"));
const { version } = JSON.parse(readFileSync(join(zodDir, "package.json"), "utf8"));
const out = join(process.argv[2], `zod@${version}`, "index.js");

if (!(existsSync(out) && readFileSync(out, "utf8").startsWith(MARK))) {
  const esbuild = createRequire(join(ROOT, "node_modules/@observablehq/framework/package.json"))("esbuild");
  const localesIndex = join(zodDir, "v4", "locales", "index.js");
  const english = join(zodDir, "v4", "locales", "en.js");
  const r = await esbuild.build({
    stdin: { contents: 'export * from "zod";', resolveDir: ROOT, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    write: false,
    banner: { js: MARK },
    plugins: [
      {
        name: "english-only",
        setup(b) {
          // `export * as locales from "../locales/index.js"` -> a namespace holding English alone.
          b.onResolve({ filter: /locales\/index\.js$/ }, (a) => (join(a.resolveDir, a.path) === localesIndex ? { path: localesIndex, namespace: "english-only" } : undefined));
          b.onLoad({ filter: /.*/, namespace: "english-only" }, () => ({ contents: `export { default as en } from ${JSON.stringify(english)};`, resolveDir: dirname(english), loader: "js" }));
        },
      },
    ],
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, r.outputFiles[0].text);
}
