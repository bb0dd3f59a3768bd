// engine-mlx plugin: command lines for mlx_lm.server / mlx_lm.generate, and parsing of real mlx_lm output
// (verbatim samples in test/fixtures/samples/engines, sources in test/fixtures/samples/SOURCES.md).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { validateManifest } from "../../plugins/manifest.js";
import { buildMlxArgs, buildMlxServerArgs, manifest, parseMlxLog } from "../../plugins/engine-mlx/index.js";
import type { Deployment } from "../../lib/calc/types.js";
import { InputError } from "../../lib/calc/types.js";

const sample = (f: string) => readFileSync(new URL(`../fixtures/samples/engines/${f}`, import.meta.url), "utf8");
const dep = (o: Partial<Deployment> = {}): Deployment => ({ engine: "mlx", weights: "mlx-4bit", kvDtypeK: "bf16", kvDtypeV: "bf16", context: 8192, seqs: 1, tp: 1, pp: 1, ...o });

describe("manifest", () => {
  it("validates as an engine plugin", () => {
    expect(validateManifest("engine-mlx", manifest).kind).toBe("engine");
  });
});

describe("command lines", () => {
  it("server: model, host, port; --seqs becomes --decode-concurrency", () => {
    expect(buildMlxServerArgs("mlx-community/Qwen3-4B-Instruct-2507-4bit", dep({ seqs: 4, options: { prefillStepSize: 1024 } }), { port: 8081 })).toEqual([
      "mlx_lm.server", "--model", "mlx-community/Qwen3-4B-Instruct-2507-4bit", "--host", "127.0.0.1", "--port", "8081", "--decode-concurrency", "4", "--prefill-step-size", "1024",
    ]);
  });
  it("generate: quantized KV cache from the start and a rotating cache", () => {
    expect(buildMlxArgs({ tool: "generate", model: "m", deployment: dep({ kvDtypeK: "q4", kvDtypeV: "q4", options: { maxKvSize: 4096 } }), maxTokens: 256 })).toEqual([
      "mlx_lm.generate", "--model", "m", "--max-tokens", "256", "--prompt", "-", "--max-kv-size", "4096", "--kv-bits", "4", "--kv-group-size", "64", "--quantized-kv-start", "0",
    ]);
  });
  it("refuses what mlx_lm cannot do, with one clear line", () => {
    expect(() => buildMlxServerArgs("m", dep({ kvDtypeK: "q8", kvDtypeV: "q8" }))).toThrow(/no --kv-bits/);
    expect(() => buildMlxArgs({ tool: "generate", model: "m", deployment: dep({ kvDtypeK: "fp8", kvDtypeV: "fp8" }) })).toThrow(InputError);
    expect(() => buildMlxServerArgs("m", dep({ engine: "vllm" }))).toThrow(/not vllm/);
    expect(() => buildMlxArgs({ tool: "generate", model: "m", deployment: dep({ seqs: 2 }) })).toThrow(/one sequence/);
  });
});

describe("parseMlxLog on real output", () => {
  it("mlx_lm.generate stats (mlx-examples#1122)", () => {
    expect(parseMlxLog(sample("mlx-generate-stats-llama3.1-8b-4bit-mlx-examples-1122.txt"))).toEqual([
      { kind: "generate", promptTokens: 1929, promptTps: 775.695, generationTokens: 256, generationTps: 72.733, peakMemoryBytes: 5_197_000_000, trials: [] },
    ]);
  });
  it("mlx_lm.benchmark, first format (mlx-lm#396): averages plus five trials", () => {
    const [r] = parseMlxLog(sample("mlx-benchmark-p2048-g128-mlx-lm-396.txt"));
    expect(r).toMatchObject({ kind: "benchmark", promptTokens: 2048, generationTokens: 128, promptTps: 2902.166, generationTps: 205.099, peakMemoryBytes: 3_285_000_000 });
    expect(r.trials).toHaveLength(5);
    expect(r.trials[3]).toEqual({ promptTps: 2902.258, generationTps: 204.587, peakMemoryBytes: 3_286_000_000 });
  });
  it("mlx_lm.benchmark, newer format with batch_size and total_time, three runs in one text", () => {
    const runs = parseMlxLog(sample("mlx-benchmark-qwen3.6-35b-a3b-4bit-sweep-excerpt.txt"));
    expect(runs.map((r) => [r.promptTokens, r.generationTokens, r.batchSize, r.peakMemoryBytes])).toEqual([
      [512, 1000, 1, 21_408_000_000],
      [512, 3000, 1, 21_408_000_000],
      [512, 6000, 1, 21_408_000_000],
    ]);
    expect(runs[2].trials[0].totalTimeS).toBe(60.066);
  });
  it("older generate output with a Cache memory line (mlx-examples#1081)", () => {
    const text = "Prompt: 32188 tokens, 424.646 tokens-per-sec\nGeneration: 892 tokens, 32.211 tokens-per-sec\nPeak memory: 11.496 GB\nCache memory: 4.034 GB";
    expect(parseMlxLog(text)[0]).toMatchObject({ peakMemoryBytes: 11_496_000_000, cacheMemoryBytes: 4_034_000_000 });
  });
  it("text without mlx_lm stats gives no runs", () => {
    expect(parseMlxLog("==========\nHello world\n==========")).toEqual([]);
  });
});
