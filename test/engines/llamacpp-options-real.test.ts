// The real llama.cpp (node-llama-cpp 3.22.1 prebuilt CPU libraries) over a grid of deployment options — flash
// attention on and off, batch sizes (node-llama-cpp sets n_ubatch = n_batch), contexts and sequence counts — on GGUFs
// this project writes: `hwledger plan --json` with the same flags must give the KV cache exactly and KV + compute
// buffer (memory.kvCacheBytes + memory.activationBytes) within 1% for at least 95% of runs (issue 16). The run is
// CPU-only, so the plan is asked with --backend cpu (every buffer on the host, as llama.cpp prints it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import type { Llama } from "node-llama-cpp";
import { makeDeployment, plan } from "../../lib/calc/index.js";
import { resolveGguf } from "../../loaders/gguf.js";
import { parseLlamaCppLog } from "../../plugins/engine-llamacpp/index.js";
import { engine } from "../../plugins/engines.js";
import { tinyModel, writeGguf } from "../helpers/gguf-writer.js";
import type { TinyModel } from "../helpers/gguf-writer.js";
import { runCliJson } from "../helpers/cli.js";

let llama: Llama;
let dir: string;
const log: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hwledger-llamacpp-opts-"));
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.debug, logger: (_level, message) => void log.push(message) });
}, 60_000);

afterAll(async () => {
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function settle(): Promise<void> {
  let n = -1;
  while (n !== log.length) {
    n = log.length;
    await new Promise((r) => setTimeout(r, 40));
  }
}

const BASE = { nLayer: 2, nEmbd: 256, nHead: 4, nHeadKv: 2, headDim: 64, nFf: 512 } as const;
const MODELS: { label: string; model: TinyModel }[] = [
  { label: "llama GQA", model: { arch: "llama", ...BASE } },
  { label: "llama vocab 32768", model: { arch: "llama", ...BASE, nVocab: 32768 } },
  { label: "llama n_ff 2048", model: { arch: "llama", ...BASE, nLayer: 3, nFf: 2048 } },
  { label: "llama MHA 512 wide", model: { arch: "llama", nLayer: 2, nEmbd: 512, nHead: 8, nHeadKv: 8, headDim: 64, nFf: 1024 } },
  { label: "gemma2 SWA 128", model: { arch: "gemma2", ...BASE, nLayer: 4, window: 128, tied: true } },
  { label: "deepseek2 MLA", model: { arch: "deepseek2", nLayer: 2, nEmbd: 256, nHead: 4, kvLoraRank: 64, ropeDim: 32 } },
];
const SHAPES = [
  { context: 2048, seqs: 1 },
  { context: 1000, seqs: 3 },
];
const BATCHES = [128, 512, 1024];

interface Outcome {
  label: string;
  kvPlan: number;
  kvRun: number;
  /** KV lines llama.cpp printed (K and V each to ±0.005 MiB). */
  kvTerms: number;
  totalPlan: number;
  totalRun: number;
}
const outcomes: Outcome[] = [];

describe("llama.cpp options grid: flash attention on/off × batch × context × sequences", () => {
  let n = 0;
  for (const m of MODELS) {
    it(`${m.label}: every option combination`, async () => {
      const { metadata, tensors } = tinyModel(m.model);
      const file = join(dir, `g${n++}.gguf`);
      writeGguf(file, metadata, tensors);
      const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
      const { model: spec } = await resolveGguf(file);
      try {
      for (const fa of [true, false])
        for (const batch of BATCHES)
          for (const s of SHAPES) {
            await settle();
            log.length = 0;
            const ctx = await model.createContext({ contextSize: s.context, sequences: s.seqs, batchSize: batch, flashAttention: fa });
            await settle();
            const facts = parseLlamaCppLog(log.join("\n"));
            await ctx.dispose();
            // The plan gets what llama.cpp was given (node-llama-cpp sets n_ubatch = n_batch; its batch may differ from
            // the one asked, e.g. 129 for 128 with an SWA model): the flags --backend cpu --flash-attn on|off
            // --batch --ubatch map to these options (the CLI case below checks that mapping).
            const options = { llamaCppBackend: "CPU" as const, flashAttention: fa, batch: facts.nBatch, ubatch: facts.nUbatch };
            const e = engine("llama.cpp");
            const p = plan(spec, makeDeployment(spec, { engine: e, context: s.context, seqs: s.seqs, options }), e, { layers: false });
            if (!fa && batch === 512 && s.seqs === 3) {
              const args = ["plan", "--gguf", file, "--engine", "llama.cpp", "--context", String(s.context), "--seqs", String(s.seqs), "--backend", "cpu", "--flash-attn", fa ? "on" : "off", "--batch", String(facts.nBatch), "--ubatch", String(facts.nUbatch), "--json"];
              const cli = (await runCliJson(args)) as { memory: { kvCacheBytes: number; activationBytes: number } };
              expect(cli.memory).toEqual(p.memory);
            }
            outcomes.push({
              label: `${m.label} fa ${fa ? "on" : "off"} b ${batch} ${s.context}×${s.seqs}`,
              kvPlan: p.memory.kvCacheBytes,
              kvRun: facts.kvCacheBytes,
              kvTerms: 2 * facts.kvCaches.filter((k) => k.layers > 0).length,
              totalPlan: p.memory.kvCacheBytes + p.memory.activationBytes,
              totalRun: facts.kvCacheBytes + facts.computeBytesByBuffer.CPU,
            });
          }
      } finally {
        await model.dispose();
      }
    }, 240_000);
  }

  it("KV exact in every run; KV + compute within 1% in at least 95% of runs, per-run table reported", () => {
    expect(outcomes.length).toBe(MODELS.length * 2 * BATCHES.length * SHAPES.length);
    const MIB = 1024 * 1024;
    // llama.cpp prints MiB with two decimals: each printed K or V figure is exact to ±0.005 MiB.
    for (const o of outcomes) expect(Math.abs(o.kvPlan - o.kvRun), o.label).toBeLessThanOrEqual((o.kvTerms * MIB) / 200);
    const errors = outcomes.map((o) => ({ label: o.label, rel: (o.totalPlan - o.totalRun) / o.totalRun }));
    const within = errors.filter((e) => Math.abs(e.rel) <= 0.01).length;
    const worst = errors.reduce((a, b) => (Math.abs(b.rel) > Math.abs(a.rel) ? b : a));
    const kib = (b: number) => (b / 1024).toFixed(1).padStart(10);
    console.log(`llama.cpp options grid: ${within}/${errors.length} runs within 1% (KV + compute); worst ${(worst.rel * 100).toFixed(2)}% (${worst.label})`);
    console.log(`  ${"run".padEnd(44)} ${"KV+compute run KiB".padStart(18)} ${"plan KiB".padStart(10)}      Δ`);
    for (const o of outcomes) console.log(`  ${o.label.padEnd(44)} ${kib(o.totalRun).padStart(18)} ${kib(o.totalPlan)} ${(((o.totalPlan - o.totalRun) / o.totalRun) * 100).toFixed(2).padStart(6)}%`);
    // Issue 16: at least 95% of the runs within 1%. The compute buffer is the ggml-alloc port (alloc.ts) over the reserve
    // graph (graph.ts); what remains is the ±0.005 MiB of each printed figure.
    expect(within / errors.length).toBeGreaterThanOrEqual(0.95);
  });
});
