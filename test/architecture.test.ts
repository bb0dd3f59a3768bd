// The direction rules of the code base, checked on every source file's import statements (static, re-exports and
// dynamic imports with a literal specifier): no import cycle; lib/calc imports only itself, zod and json5 (pure,
// browser-safe); lib/ imports no collector, cli, loaders, plugins or src; plugins import no collector, cli or src;
// collector and loaders import no cli or src; no source file over 400 lines. Tests and data are not source files here.
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = realpathSync(fileURLToPath(new URL("../", import.meta.url)));
const SOURCE_DIRS = ["lib", "loaders", "plugins", "collector", "cli", "src/components", "src/data", "scripts", "bench"];
const EXT = /\.(ts|js|mjs)$/;

/** Source files under the source folders (symlinked folders such as src/lib are the same files: skipped). */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      const st = lstatSync(p);
      if (st.isSymbolicLink() || e === "node_modules" || e.startsWith(".")) continue;
      if (st.isDirectory()) walk(p);
      else if (EXT.test(e) && !e.endsWith(".d.ts")) out.push(p);
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(ROOT, d))) walk(join(ROOT, d));
  return out;
}

/** Import specifiers of a file: statements at the start of a line (so comments do not count) and literal import(). */
export function importsOf(text: string): string[] {
  const specs: string[] = [];
  const statement = /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[\w\s{},*$]*?\s+from\s+)?["']([^"']+)["']/gm;
  for (const m of text.matchAll(statement)) specs.push(m[1]);
  const code = text.replace(/^[ \t]*(\/\/|\*|\/\*).*$/gm, "");
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) specs.push(m[1]);
  return specs;
}

/** A relative specifier resolved to the file it loads (`x.js` is `x.ts` in the sources), through symlinks. */
function resolveLocal(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const c of [base, base.replace(/\.js$/, ".ts"), base.replace(/\.mjs$/, ".mts"), `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(c) && lstatSync(realpathSync(c)).isFile()) return realpathSync(c);
  }
  return undefined;
}

interface Edge {
  from: string;
  spec: string;
  /** Repository-relative target for a local import; undefined for a package or builtin. */
  to?: string;
}

function graph(): { files: string[]; edges: Edge[]; unresolved: Edge[] } {
  const files = sourceFiles();
  const edges: Edge[] = [];
  const unresolved: Edge[] = [];
  for (const f of files) {
    for (const spec of importsOf(readFileSync(f, "utf8"))) {
      const e: Edge = { from: relative(ROOT, f), spec };
      if (spec.startsWith(".")) {
        const to = resolveLocal(f, spec);
        if (to) e.to = relative(ROOT, to);
        else unresolved.push(e);
      }
      edges.push(e);
    }
  }
  return { files: files.map((f) => relative(ROOT, f)), edges, unresolved };
}

/** Every import cycle, as the list of files around it (Tarjan's strongly connected components). */
export function cycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) if (e.to) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  let i = 0;
  const visit = (v: string) => {
    index.set(v, i);
    low.set(v, i++);
    stack.push(v);
    on.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return out;
}

const under = (p: string | undefined, ...dirs: string[]) => p !== undefined && dirs.some((d) => p === d || p.startsWith(`${d}/`));

describe("architecture", () => {
  const { files, edges, unresolved } = graph();

  it("finds the source files and resolves every relative import", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(unresolved.map((e) => `${e.from}: ${e.spec}`)).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(cycles(edges)).toEqual([]);
  });

  it("lib/calc imports only lib/calc, zod and json5 (no Node module: the pages run it)", () => {
    const bad = edges.filter((e) => under(e.from, "lib/calc") && (e.to ? !under(e.to, "lib/calc") : !["zod", "json5"].includes(e.spec)));
    expect(bad.map((e) => `${e.from} -> ${e.to ?? e.spec}`)).toEqual([]);
  });

  it("lib/ imports no collector, cli, loaders, plugins or src", () => {
    const bad = edges.filter((e) => under(e.from, "lib") && under(e.to, "collector", "cli", "loaders", "plugins", "src"));
    expect(bad.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it("plugins import no collector, cli or src", () => {
    const bad = edges.filter((e) => under(e.from, "plugins") && under(e.to, "collector", "cli", "src"));
    expect(bad.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it("collector and loaders import no cli or src (the CLI sits on top of them)", () => {
    const bad = edges.filter((e) => under(e.from, "collector", "loaders") && under(e.to, "cli", "src"));
    expect(bad.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });

  it("no source file is over 400 lines", () => {
    const long = files.map((f) => [f, readFileSync(join(ROOT, f), "utf8").split("\n").length - 1] as const).filter(([, n]) => n > 400);
    expect(long.map(([f, n]) => `${f}: ${n} lines`)).toEqual([]);
  });
});

describe("the import reader", () => {
  it("reads static, type-only, re-export, multi-line and literal dynamic imports, not commented ones", () => {
    const text = [
      'import { a } from "./a.js";',
      'import type { B } from "../b.js";',
      "export * from './c.js';",
      "import {\n  d,\n  e,\n} from './d.js';",
      'import "./side.js";',
      '// import { x } from "./commented.js";',
      ' * import { y } from "./doc.js";',
      'const m = await import("./lazy.js");',
      "const n = await import(`./${name}.js`);",
      'export const s = "from \\"./not-an-import.js\\"";',
    ].join("\n");
    expect(importsOf(text)).toEqual(["./a.js", "../b.js", "./c.js", "./d.js", "./side.js", "./lazy.js"]);
  });

  it("finds a cycle and names its files", () => {
    const e = (from: string, to: string): Edge => ({ from, spec: to, to });
    expect(cycles([e("a", "b"), e("b", "c"), e("c", "a"), e("c", "d")])).toEqual([["a", "b", "c"]]);
    expect(cycles([e("a", "b"), e("b", "c")])).toEqual([]);
  });
});
