// MLX engine plugin (mlx-lm): launch commands for mlx_lm.server / mlx_lm.generate from a Deployment, and a
// parser for what mlx_lm.generate and mlx_lm.benchmark print (speeds and peak memory).
// Flags are the argparse options of mlx_lm/server.py and mlx_lm/generate.py (ml-explore/mlx-lm d78bf58e).
import { InputError } from "../../lib/calc/types.js";
import type { Deployment } from "../../lib/calc/types.js";

export const manifest = {
  kind: "engine",
  name: "engine-mlx",
  version: "0.1.0",
  description: "mlx-lm on Apple Silicon: mlx_lm.server / mlx_lm.generate command lines and mlx_lm generate/benchmark output parsing",
  engine: "mlx",
  buildArgs: (o: MlxLaunch) => buildMlxArgs(o),
  parseLog: (text: string) => parseMlxLog(text),
} as const;

export interface MlxLaunch {
  /** HF repo id or local path of an MLX model (mlx-community/… or a converted folder). */
  model: string;
  deployment: Deployment;
  tool?: "server" | "generate";
  host?: string;
  port?: number;
  /** Tokens to generate (--max-tokens). */
  maxTokens?: number;
  /** generate only: the prompt ("-" reads stdin). */
  prompt?: string;
}

function kvBits(dep: Deployment): number | undefined {
  if (dep.kvDtypeK !== dep.kvDtypeV) throw new InputError("mlx_lm takes one --kv-bits for keys and values");
  switch (dep.kvDtypeK) {
    case "q8":
      return 8;
    case "q4":
      return 4;
    case "f16":
    case "bf16":
    case "f32":
      return undefined; // the cache takes the model dtype
    default:
      throw new InputError(`mlx_lm has no ${dep.kvDtypeK} KV cache (use f16/bf16, q8 or q4)`);
  }
}

/**
 * argv for `mlx_lm.server` (default) or `mlx_lm.generate`. --seqs maps to the server's --decode-concurrency
 * (sequences decoded together by its BatchGenerator). KV quantization (--kv-bits, --kv-group-size,
 * --quantized-kv-start 0) and --max-kv-size exist only on generate; the server refuses them here.
 */
export function buildMlxArgs(o: MlxLaunch): string[] {
  const dep = o.deployment;
  if (dep.engine !== "mlx") throw new InputError(`engine-mlx builds mlx_lm commands, not ${dep.engine}`);
  if (!o.model.trim()) throw new InputError("engine-mlx: --model is empty");
  if (dep.tp > 1 || dep.pp > 1) throw new InputError("engine-mlx: tensor/pipeline parallel needs mlx.launch over several hosts; plan it with --tp 1 --pp 1");
  const tool = o.tool ?? "server";
  const bits = kvBits(dep);
  const opts = dep.options ?? {};
  const argv = [tool === "server" ? "mlx_lm.server" : "mlx_lm.generate", "--model", o.model];
  if (o.maxTokens !== undefined) argv.push("--max-tokens", String(o.maxTokens));
  if (tool === "server") {
    if (bits !== undefined) throw new InputError("mlx_lm.server has no --kv-bits: a quantized KV cache needs mlx_lm.generate");
    if (opts.maxKvSize !== undefined) throw new InputError("mlx_lm.server has no --max-kv-size: a rotating cache needs mlx_lm.generate");
    argv.push("--host", o.host ?? "127.0.0.1", "--port", String(o.port ?? 8080));
    if (dep.seqs > 1) argv.push("--decode-concurrency", String(dep.seqs));
    if (opts.prefillStepSize !== undefined) argv.push("--prefill-step-size", String(opts.prefillStepSize));
    return argv;
  }
  if (dep.seqs > 1) throw new InputError("mlx_lm.generate runs one sequence; use the server (--decode-concurrency) for --seqs > 1");
  argv.push("--prompt", o.prompt ?? "-");
  if (opts.maxKvSize !== undefined) argv.push("--max-kv-size", String(opts.maxKvSize));
  if (bits !== undefined) {
    argv.push("--kv-bits", String(bits), "--kv-group-size", String(opts.kvGroupSize ?? 64), "--quantized-kv-start", "0");
  }
  return argv;
}

/** The name the brief and the collector use for the server command. */
export function buildMlxServerArgs(model: string, deployment: Deployment, o: Omit<MlxLaunch, "model" | "deployment" | "tool"> = {}): string[] {
  return buildMlxArgs({ ...o, model, deployment, tool: "server" });
}

export interface MlxTrial {
  promptTps: number;
  generationTps: number;
  peakMemoryBytes: number;
  totalTimeS?: number;
}

/** One measured run: a generate call, or one benchmark configuration (its averages and trials). */
export interface MlxRun {
  kind: "generate" | "benchmark";
  promptTokens?: number;
  generationTokens?: number;
  batchSize?: number;
  promptTps?: number;
  generationTps?: number;
  /** mx.get_peak_memory(): printed in GB = 1e9 bytes (generate.py `peak_memory=mx.get_peak_memory() / 1e9`). */
  peakMemoryBytes?: number;
  /** generate's "Cache memory" line (older mlx_lm): MLX's buffer cache, freed memory kept for reuse. */
  cacheMemoryBytes?: number;
  trials: MlxTrial[];
}

const GB = 1e9;
const num = String.raw`([0-9]+(?:\.[0-9]+)?)`;
const RE = {
  prompt: new RegExp(String.raw`^(?:\[batch_generate\]\s*)?Prompt:\s*(\d+) tokens,\s*${num} tokens-per-sec`),
  generation: new RegExp(String.raw`^(?:\[batch_generate\]\s*)?Generation:\s*(\d+) tokens,\s*${num} tokens-per-sec`),
  peak: new RegExp(String.raw`^(?:[-*]\s*)?(?:\[batch_generate\]\s*)?Peak memory:\s*${num}\s*GB`),
  cache: new RegExp(String.raw`^Cache memory:\s*${num}\s*GB`),
  timing: /^Timing with prompt_tokens=(\d+)(?:,| and) generation_tokens=(\d+)(?:, batch_size=(\d+))?/,
  trial: /^(Trial \d+|Averages):\s*(.*)$/,
};

function fields(s: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of s.matchAll(/([a-z_]+)=([0-9]+(?:\.[0-9]+)?)/g)) out[m[1]] = Number(m[2]);
  return out;
}

/**
 * Parses mlx_lm.generate stats ("Prompt: N tokens, X tokens-per-sec", "Generation: …", "Peak memory: X GB") and
 * mlx_lm.benchmark output ("Timing with prompt_tokens=…", "Trial i:  prompt_tps=…, generation_tps=…,
 * peak_memory=…[, total_time=…]", "Averages: …"), old and new formats, several runs in one text.
 */
export function parseMlxLog(text: string): MlxRun[] {
  const runs: MlxRun[] = [];
  let gen: MlxRun | undefined;
  let bench: MlxRun | undefined;
  const genRun = (): MlxRun => {
    if (!gen) runs.push((gen = { kind: "generate", trials: [] }));
    return gen;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, "").trim();
    let m: RegExpMatchArray | null;
    if ((m = line.match(RE.timing))) {
      bench = { kind: "benchmark", promptTokens: Number(m[1]), generationTokens: Number(m[2]), trials: [] };
      if (m[3]) bench.batchSize = Number(m[3]);
      runs.push(bench);
      gen = undefined;
    } else if ((m = line.match(RE.trial))) {
      if (!bench) runs.push((bench = { kind: "benchmark", trials: [] }));
      const f = fields(m[2]);
      if (f.prompt_tps === undefined || f.generation_tps === undefined || f.peak_memory === undefined) continue;
      if (m[1] === "Averages") {
        bench.promptTps = f.prompt_tps;
        bench.generationTps = f.generation_tps;
        bench.peakMemoryBytes = Math.round(f.peak_memory * GB);
      } else {
        const t: MlxTrial = { promptTps: f.prompt_tps, generationTps: f.generation_tps, peakMemoryBytes: Math.round(f.peak_memory * GB) };
        if (f.total_time !== undefined) t.totalTimeS = f.total_time;
        bench.trials.push(t);
      }
    } else if ((m = line.match(RE.prompt))) {
      if (gen && gen.promptTokens !== undefined) gen = undefined; // a second generate call starts a new run
      const r = genRun();
      r.promptTokens = Number(m[1]);
      r.promptTps = Number(m[2]);
    } else if ((m = line.match(RE.generation))) {
      const r = genRun();
      r.generationTokens = Number(m[1]);
      r.generationTps = Number(m[2]);
    } else if ((m = line.match(RE.peak))) {
      genRun().peakMemoryBytes = Math.round(Number(m[1]) * GB);
    } else if ((m = line.match(RE.cache))) {
      genRun().cacheMemoryBytes = Math.round(Number(m[1]) * GB);
    }
  }
  // A benchmark run without an Averages line (cut-off output): average its trials as mlx_lm.benchmark does.
  for (const r of runs) {
    if (r.kind === "benchmark" && r.peakMemoryBytes === undefined && r.trials.length) {
      const n = r.trials.length;
      r.promptTps = r.trials.reduce((a, t) => a + t.promptTps, 0) / n;
      r.generationTps = r.trials.reduce((a, t) => a + t.generationTps, 0) / n;
      r.peakMemoryBytes = Math.round(r.trials.reduce((a, t) => a + t.peakMemoryBytes, 0) / n);
    }
  }
  return runs;
}
