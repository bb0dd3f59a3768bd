// What mlx_lm.generate and mlx_lm.benchmark print (speeds and peak memory), parsed into runs.

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
