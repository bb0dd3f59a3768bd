// The speed model against published llama.cpp results on devices it was never fitted to. The default
// efficiencies are per engine × device class; this test states how far off they are (printed), and fails if a
// case drifts past a factor of two — beyond that the model, not the defaults, would be wrong.
import { describe, expect, it } from "vitest";
import { makeDeployment, speed } from "../../lib/calc/index.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { findDevice } from "../../lib/fleet/devices.js";
import { resolveModel } from "../../loaders/models.js";
import { engine } from "../../plugins/engines.js";

interface Case {
  source: string;
  model: string;
  weights: string;
  device: string;
  prompt: number;
  gen: number;
  measured: number;
}

const CASES: Case[] = [
  // ggml-org/llama.cpp PR #7676 "CUDA: use tensor cores for MMQ": RTX 4090, llama 8B Q4_0, ubatch 512, pp512 10358.75 t/s.
  { source: "llama.cpp#7676", model: "meta-llama/Llama-3.1-8B-Instruct", weights: "Q4_0", device: "rtx-4090", prompt: 512, gen: 0, measured: 10358.75 },
  // dmatora/LLM-inference-speed-benchmarks#10: llama3 8B Q6 on RTX 4090, llama.cpp server, generation 93 t/s.
  { source: "dmatora/LLM-inference-speed-benchmarks#10", model: "meta-llama/Llama-3.1-8B-Instruct", weights: "Q6_K", device: "rtx-4090", prompt: 0, gen: 128, measured: 93 },
  // calebcoffie.com/benchmarks/gemma-3-4b-it-gguf: Gemma 3 4B Q4_K_M, RTX 3090, llama.cpp 3e12fbd, tg_1024 189.8 t/s.
  { source: "calebcoffie.com gemma-3-4b-it-gguf", model: "google/gemma-3-4b-it", weights: "Q4_K_M", device: "rtx-3090", prompt: 0, gen: 1024, measured: 189.8 },
];

describe("speed vs published llama.cpp results", () => {
  for (const c of CASES) {
    it(`${c.model} ${c.weights} on ${c.device}: ${c.prompt ? `pp${c.prompt}` : `tg${c.gen}`} (${c.source})`, async () => {
      const { model } = await resolveModel(c.model, { offline: true });
      const dep = makeDeployment(model, { engine: engine("llama.cpp"), weights: c.weights, context: Math.max(c.prompt + c.gen, 1) });
      const r = speed(model, dep, engine(dep.engine), placementDevice(findDevice(c.device)), { prompt: c.prompt, gen: c.gen, seqs: 1 });
      const predicted = (c.prompt ? r.prefillTokensPerSecond : r.decodeTokensPerSecond)!;
      const ratio = predicted / c.measured;
      console.log(`speed ${c.source}: predicted ${predicted.toFixed(1)} vs measured ${c.measured} t/s (${((ratio - 1) * 100).toFixed(0)}%)`);
      expect(ratio).toBeGreaterThan(0.5);
      expect(ratio).toBeLessThan(2);
    });
  }
});
