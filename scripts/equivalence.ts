// Refactor guard: records the `--json` output of plan, fit, speed, dispatch and split over a grid of every catalog
// model × engine × weights, KV types, contexts, sequences and TP, in one process (the real CLI commands, stdout
// captured). Run it before and after a change and compare:
//   npx tsx scripts/equivalence.ts record /tmp/before
//   npx tsx scripts/equivalence.ts record /tmp/after
//   npx tsx scripts/equivalence.ts compare /tmp/before /tmp/after
// Each command's cases go to <dir>/<command>.jsonl, one {args, code, stdout, stderr} per line.
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [mode, dirA, dirB] = process.argv.slice(2);

const ENGINES: Record<string, { weights: string[]; kv: string[]; tp: number[] }> = {
  vllm: { weights: ["", "fp8", "awq"], kv: ["f16", "fp8"], tp: [1, 2, 4] },
  "llama.cpp": { weights: ["Q4_K_M", "Q8_0", "f16"], kv: ["f16", "q8_0", "q4_0,f16"], tp: [1] },
  mlx: { weights: ["", "mlx-4bit"], kv: ["f16", "q4"], tp: [1] },
  transformers: { weights: ["", "nf4"], kv: ["f16", "q4"], tp: [1] },
};
const CONTEXTS = ["1", "4096", "131072"];
const SEQS = ["1", "8"];
const SPEED_DEVICES = ["rtx-4090", "h100-sxm-80gb", "a100-sxm4-80gb", "mi300x", "m2-max-38c-96gb", "rtx-3060-12gb", "ryzen-ai-max-395", "i9-13900k"];
const SPLIT_SETS = ["rtx-4090,rtx-3090", "rtx-4090,rtx-3090,m2-max-38c-96gb", "h100-sxm-80gb,a100-sxm4-40gb,l4"];

interface Case {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
}

async function cliRunner(): Promise<(argv: string[]) => Promise<Case>> {
  const ledger = mkdtempSync(join(tmpdir(), "hwl-eq-"));
  process.env.HOME = ledger;
  process.env.XDG_DATA_HOME = join(ledger, "xdg");
  process.env.HWLEDGER_LEDGER = join(ledger, "ledger");
  process.env.HWLEDGER_CACHE = join(ledger, "cache");
  process.env.HWLEDGER_OFFLINE = "1";
  const { main } = (await import(process.env.HWLEDGER_EQ_MAIN ?? "../cli/main.js")) as { main: (argv: string[]) => Promise<number> };
  return async (args) => {
    let stdout = "";
    let stderr = "";
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => ((stdout += s), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(args);
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    return { args, code, stdout, stderr };
  };
}

function catalogIds(): string[] {
  const dir = new URL("../loaders/catalog/", import.meta.url);
  const ids: string[] = [];
  for (const f of ["manifest-dense.json", "manifest-moe.json", "manifest-ssm.json", "manifest-hybrid.json", "manifest.json"]) {
    try {
      for (const e of JSON.parse(readFileSync(new URL(f, dir), "utf8")) as Array<{ id: string }>) ids.push(e.id);
    } catch {
      // not every part exists
    }
  }
  return ids;
}

function* planCases(models: string[]): Generator<string[]> {
  for (const m of models)
    for (const [engine, g] of Object.entries(ENGINES))
      for (const w of g.weights)
        for (const kv of g.kv)
          for (const ctx of CONTEXTS)
            for (const seqs of SEQS)
              for (const tp of g.tp) {
                const a = ["plan", "--model", m, "--engine", engine, "--kv-dtype", kv, "--context", ctx, "--seqs", seqs, "--tp", String(tp), "--json"];
                if (w) a.push("--weights", w);
                yield a;
              }
  // Pipeline parallel on vLLM.
  for (const m of models) yield ["plan", "--model", m, "--engine", "vllm", "--context", "8192", "--pp", "2", "--json"];
}

function* fitCases(models: string[]): Generator<string[]> {
  for (const m of models)
    for (const [engine, g] of Object.entries(ENGINES))
      for (const kv of g.kv.slice(0, 2))
        for (const ctx of ["4096", ""])
          for (const budget of [["--gpu-memory-gib", "23.52"], ["--gpu-memory-gib", "79.19"], ["--kv-budget-gib", "10"]])
            for (const tp of g.tp.slice(0, 2)) {
              const a = ["fit", "--model", m, "--engine", engine, "--kv-dtype", kv, "--tp", String(tp), ...budget, "--json"];
              if (ctx) a.push("--context", ctx);
              yield a;
            }
  for (const m of models)
    for (const v of ["0.25.1", "0.28.1"])
      for (const extra of [[], ["--enforce-eager"], ["--sampler", "flashinfer"], ["--max-num-seqs", "64", "--max-num-batched-tokens", "4096"]])
        yield ["fit", "--model", m, "--engine", "vllm", "--gpu-memory-gib", "79.19", "--gpu-memory-utilization", "0.95", "--context", "8192", "--vllm-version", v, ...extra, "--json"];
}

function* speedCases(models: string[]): Generator<string[]> {
  for (const m of models)
    for (const d of SPEED_DEVICES)
      for (const [engine, w] of [["llama.cpp", "Q4_0"], ["llama.cpp", "Q4_K_M"], ["llama.cpp", "f16"], ["vllm", ""], ["mlx", "mlx-4bit"]])
        for (const [p, gen, seqs] of [["512", "0", "1"], ["0", "128", "1"], ["2048", "256", "8"]]) {
          const a = ["speed", "--model", m, "--engine", engine, "--device", d, "--prompt", p, "--gen", gen, "--seqs", seqs, "--no-calibrate", "--json"];
          if (w) a.push("--weights", w);
          yield a;
        }
}

function* dispatchCases(models: string[]): Generator<string[]> {
  const some = models.filter((_, i) => i % 4 === 0);
  for (const m of some)
    for (const extra of [[], ["--engine", "llama.cpp", "--weights", "Q4_K_M"], ["--spot", "--prompt", "1024", "--budget", "5"]])
      yield ["dispatch", "--model", m, "--context", "8192", "--seqs", "4", "--tokens", "200000", "--no-record", ...extra, "--json"];
}

function* splitCases(models: string[]): Generator<string[]> {
  for (const m of models)
    for (const set of SPLIT_SETS)
      for (const [engine, w] of [["llama.cpp", "Q4_K_M"], ["vllm", ""]]) {
        const a = ["split", "--model", m, "--engine", engine, "--devices", set, "--context", "8192", "--json"];
        if (w) a.push("--weights", w);
        yield a;
        if (set.includes(",l4") || set.endsWith("rtx-3090")) yield [...a, "--without", set.split(",")[1]];
      }
}

async function record(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const run = await cliRunner();
  const models = catalogIds();
  const groups: Record<string, Generator<string[]>> = {
    plan: planCases(models),
    fit: fitCases(models),
    speed: speedCases(models),
    dispatch: dispatchCases(models),
    split: splitCases(models),
  };
  const only = process.env.HWLEDGER_EQ_ONLY?.split(",");
  for (const [name, gen] of Object.entries(groups)) {
    if (only && !only.includes(name)) continue;
    const t0 = Date.now();
    const lines: string[] = [];
    for (const args of gen) lines.push(JSON.stringify(await run(args)));
    writeFileSync(join(dir, `${name}.jsonl`), lines.join("\n") + "\n");
    process.stderr.write(`${name}: ${lines.length} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
}

function compare(a: string, b: string): number {
  let differing = 0;
  for (const name of ["plan", "fit", "speed", "dispatch", "split"]) {
    let left: Case[];
    let right: Case[];
    try {
      left = readFileSync(join(a, `${name}.jsonl`), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      right = readFileSync(join(b, `${name}.jsonl`), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    } catch {
      continue;
    }
    const byArgs = new Map(right.map((c) => [c.args.join(" "), c]));
    let same = 0;
    let diff = 0;
    for (const l of left) {
      const r = byArgs.get(l.args.join(" "));
      if (r && r.code === l.code && r.stdout === l.stdout && (l.code === 0 || r.stderr === l.stderr)) {
        same++;
        continue;
      }
      diff++;
      if (diff <= 5) {
        process.stdout.write(`DIFF ${l.args.join(" ")}\n  before: code ${l.code} ${(l.stdout || l.stderr).slice(0, 400)}\n  after:  ${r ? `code ${r.code} ${(r.stdout || r.stderr).slice(0, 400)}` : "missing"}\n`);
      }
    }
    differing += diff;
    process.stdout.write(`${name}: ${same} identical, ${diff} different (of ${left.length})\n`);
  }
  return differing;
}

if (mode === "record" && dirA) await record(dirA);
else if (mode === "compare" && dirA && dirB) process.exitCode = compare(dirA, dirB) ? 1 : 0;
else {
  process.stderr.write("usage: equivalence.ts record DIR | compare BEFORE AFTER\n");
  process.exitCode = 2;
}
