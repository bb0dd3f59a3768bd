// The real llama.cpp (prebuilt CPU libraries from node-llama-cpp 3.22.1) loads GGUFs this project writes, and the
// KV/recurrent cache sizes it prints must equal `hwledger plan` for the same settings.
// llama.cpp prints MiB with two decimals (src/llama-kv-cache.cpp, "%7.2f MiB"); every planned cache term here is a multiple of G ≥ 16 KiB (asserted),
// so equal printed figures (|Δ| < 0.01 MiB = 10.24 KiB) mean equal bytes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import type { Llama } from "node-llama-cpp";
import { makeDeployment, plan } from "../../lib/calc/index.js";
import { llamaCppCaches } from "../../plugins/engine-llamacpp/index.js";
import type { EngineOptions } from "../../lib/calc/index.js";
import { llamaCppComputeBuffer } from "../../plugins/engine-llamacpp/index.js";
import { resolveGguf } from "../../loaders/gguf.js";
import { parseLlamaCppLog } from "../../plugins/engine-llamacpp/index.js";
import { tinyModel, writeGguf } from "../helpers/gguf-writer.js";
import type { TinyModel } from "../helpers/gguf-writer.js";
import { runCliJson } from "../helpers/cli.js";
import { engine } from "../../plugins/engines.js";

const MIB = 1024 * 1024;
let llama: Llama;
let dir: string;
const log: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hwledger-llamacpp-"));
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.debug, logger: (_level, message) => void log.push(message) });
}, 60_000);

afterAll(async () => {
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const BASE = { nLayer: 2, nEmbd: 256, nHead: 4, nHeadKv: 2, headDim: 64, nFf: 512 } as const;

interface Case {
  label: string;
  model: TinyModel;
  context: number;
  seqs: number;
  kv?: "F16" | "Q8_0" | "Q4_0";
  /** V cache type when it differs from K (-ctv). */
  kvV?: "F16" | "Q8_0" | "Q4_0";
  flashAttention?: boolean;
  swaFull?: boolean;
  /** The compute buffer estimate is exact for this case (the logits or the KQ scores peak). */
  computeExact?: boolean;
}

const CASES: Case[] = [
  { label: "llama GQA f16, context 1000 padded to 1024", model: { arch: "llama", ...BASE }, context: 1000, seqs: 1 },
  { label: "llama GQA f16, 3 sequences × 700 (n_ctx_seq padded to 768)", model: { arch: "llama", ...BASE }, context: 700, seqs: 3 },
  { label: "llama MHA q8_0 weights, q8_0 cache, 2 × 2048", model: { arch: "llama", ...BASE, nHeadKv: 4, weightType: "Q8_0" }, context: 2048, seqs: 2, kv: "Q8_0" },
  { label: "llama MQA q4_0 cache, 1 × 3000", model: { arch: "llama", ...BASE, nHeadKv: 1, headDim: 64 }, context: 3000, seqs: 1, kv: "Q4_0" },
  { label: "llama K q8_0 / V f16 (-ctk q8_0 -ctv f16), 2 × 1024", model: { arch: "llama", ...BASE }, context: 1024, seqs: 2, kv: "Q8_0", kvV: "F16" },
  { label: "llama f16 cache, flash attention off (V transposed)", model: { arch: "llama", ...BASE }, context: 1500, seqs: 2, flashAttention: false, computeExact: true },
  { label: "gemma2 sliding window 128, 2 × 1000", model: { arch: "gemma2", ...BASE, nLayer: 4, window: 128, tied: true }, context: 1000, seqs: 2 },
  { label: "gemma2 sliding window 1024 > ubatch, q8_0 cache, 1 × 5000", model: { arch: "gemma2", ...BASE, nLayer: 4, window: 1024, tied: true }, context: 5000, seqs: 1, kv: "Q8_0" },
  { label: "gemma2 --swa-full, 2 × 600", model: { arch: "gemma2", ...BASE, nLayer: 4, window: 128, tied: true }, context: 600, seqs: 2, swaFull: true },
  { label: "deepseek2 MLA: latent K only (kv_lora_rank + n_rot), no V, 2 × 1000", model: { arch: "deepseek2", nLayer: 2, nEmbd: 256, nHead: 4, kvLoraRank: 64, ropeDim: 32 }, context: 1000, seqs: 2 },
  { label: "deepseek2 MLA, q8_0 latent cache, 1 × 4096", model: { arch: "deepseek2", nLayer: 2, nEmbd: 256, nHead: 4, kvLoraRank: 64, ropeDim: 32 }, context: 4096, seqs: 1, kv: "Q8_0" },
  // Compute-buffer stages (llama-context.cpp sched_reserve): the logits, the FFN block and the f32 KQ scores peak in turn.
  { label: "llama vocab 32768: logits n_vocab × n_ubatch peak the compute buffer", model: { arch: "llama", ...BASE, nVocab: 32768 }, context: 2000, seqs: 3, computeExact: true },
  { label: "llama n_ff 2048: the FFN block (gate, up, swiglu) peaks the compute buffer", model: { arch: "llama", ...BASE, nLayer: 3, nFf: 2048 }, context: 1024, seqs: 1 },
  { label: "llama flash attention off, 1 × 4096: KQ scores n_kv × n_ubatch × n_head f32 peak", model: { arch: "llama", ...BASE, nLayer: 3 }, context: 4096, seqs: 1, flashAttention: false, computeExact: true },
  { label: "mamba recurrent state, 3 sequences", model: { arch: "mamba", nLayer: 2, nEmbd: 512, dInner: 1024, dState: 16, dConv: 4 }, context: 1000, seqs: 3 },
];

/** node-llama-cpp delivers llama.cpp's log lines asynchronously: wait until they stop arriving. */
async function settle(): Promise<void> {
  let n = -1;
  while (n !== log.length) {
    n = log.length;
    await new Promise((r) => setTimeout(r, 40));
  }
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
/** printf("%.2f") of bytes/MiB: glibc rounds an exact binary tie to even (1.125 -> "1.12"), toFixed does not. */
function printed(bytes: number): string {
  const x = (bytes / MIB) * 100;
  const f = Math.floor(x);
  const r = x - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(x);
  return (r / 100).toFixed(2);
}

describe("llama.cpp (node-llama-cpp CPU build) vs hwledger plan", () => {
  for (const [i, c] of CASES.entries()) {
    it(c.label, async () => {
      const { metadata, tensors } = tinyModel(c.model);
      const file = join(dir, `m${i}.gguf`);
      writeGguf(file, metadata, tensors);
      await settle();
      log.length = 0;
      const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
      const ctx = await model.createContext({
        contextSize: c.context,
        sequences: c.seqs,
        batchSize: 512,
        flashAttention: c.flashAttention ?? true,
        swaFullCache: c.swaFull ?? false,
        experimentalKvCacheKeyType: c.kv ?? "F16",
        experimentalKvCacheValueType: c.kvV ?? c.kv ?? "F16",
      });
      await settle();
      const facts = parseLlamaCppLog(log.join("\n"));
      await ctx.dispose();
      await model.dispose();

      // What node-llama-cpp asked llama.cpp for (inputs, not predictions).
      expect(facts.nSeqMax).toBe(c.seqs);
      expect(facts.kvUnified).toBe(false);
      const options: EngineOptions = { ubatch: facts.nUbatch, batch: facts.nBatch, flashAttention: c.flashAttention ?? true, swaFull: c.swaFull ?? false, llamaCppBackend: "CPU" };
      const kvName = `${c.kv ?? "F16"},${c.kvV ?? c.kv ?? "F16"}`.toLowerCase();
      const { model: spec } = await resolveGguf(file);
      const dep = makeDeployment(spec, { engine: engine("llama.cpp"), context: c.context, seqs: c.seqs, kvDtype: kvName, options });
      const p = plan(spec, dep, engine(dep.engine));
      const detail = llamaCppCaches(spec, dep);

      // The context llama.cpp built is the one hwledger derived.
      expect(facts.nCtx).toBe(detail.ctx.nCtx);
      expect(facts.nCtxSeq).toBe(detail.ctx.nCtxSeq);

      // Each cache line: cells, layers and printed MiB equal; the granularity argument makes them byte-equal.
      const predictedKv = [detail.base, detail.swa].filter((x) => x.layers > 0);
      expect(facts.kvCaches.filter((x) => x.layers > 0).map((x) => [x.cells, x.layers, x.printed.k, x.printed.v])).toEqual(
        predictedKv.map((x) => [x.cells, x.layers, printed(x.kBytes), printed(x.vBytes)]),
      );
      let g = 0;
      for (const l of p.layers) if (l.kvBytes) g = gcd(g, l.kvBytes);
      if (detail.recurrent.layers) {
        const r = facts.recurrent[0];
        expect([r.cells, r.layers]).toEqual([detail.recurrent.cells, detail.recurrent.layers]);
        expect(printed(r.rBytes + r.sBytes)).toBe(printed(detail.recurrent.bytes));
        expect(r.rType).toBe("f32");
      } else {
        expect(facts.recurrent).toEqual([]);
      }
      expect(g).toBeGreaterThanOrEqual(16 * 1024);
      expect(printed(p.memory.kvCacheBytes)).toBe(printed(facts.kvCacheBytes));

      // Compute buffer (sched_reserve's CPU line) vs the closed-form ggml-alloc peak plus the CPU-side inputs.
      // Exact (printed MiB equal) when the logits or the f32 KQ scores peak: then every live tensor is counted and
      // the big tensor lands right above them. Otherwise within one hidden state f32 [n_embd, n_ubatch]: the closed
      // form counts the tensors a block holds, not where the previous layer left its residual (an allocator hole of
      // that size, more or less), plus the ±0.005 MiB of the printed figure. Recurrent (mamba) graphs are not modelled: no check.
      const cb = llamaCppComputeBuffer(spec, dep);
      const cpu = facts.computeBytesByBuffer.CPU;
      const est = cb.device + cb.cpuInputs;
      if (c.computeExact) expect(printed(est)).toBe(printed(cpu));
      else if (c.model.arch !== "mamba") expect(Math.abs(cpu - est)).toBeLessThanOrEqual(cb.hiddenState + MIB / 200);
      // A CPU-only build: every stage and the token inputs in the one CPU buffer.
      expect(p.memory.activationBytes).toBe(cb.device + cb.cpuInputs);

      // Weights: llama.cpp's model buffer within 1% of the plan (exact tensor bytes from the header).
      expect(Math.abs(facts.weightsBytes - p.memory.weightsBytes) / p.memory.weightsBytes).toBeLessThan(0.01);
    }, 30_000);
  }

  it("the CLI plans a GGUF alone with the same KV bytes", async () => {
    const { metadata, tensors } = tinyModel({ arch: "llama", ...BASE });
    const file = join(dir, "cli.gguf");
    writeGguf(file, metadata, tensors);
    const j = (await runCliJson(["plan", "--gguf", file, "--engine", "llama.cpp", "--context", "1000", "--seqs", "3", "--kv-dtype", "q8_0"])) as { memory: { kvCacheBytes: number; weightsBytes: number } };
    // 2 layers × 3 streams × pad(3000/3 → 1024) cells × (K + V) 128 values q8_0 (136 bytes per row).
    expect(j.memory.kvCacheBytes).toBe(2 * 3 * 1024 * 2 * 136);
    const { model } = await resolveGguf(file);
    expect(j.memory.weightsBytes).toBe(Object.values(model.gguf!.tensorBytes).reduce((a, b) => a + b, 0));
  }, 30_000);
});
