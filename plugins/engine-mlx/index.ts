// MLX (mlx-lm) engine plugin: memory rules (memory.ts, from mlx_lm/models/cache.py and generate.py), mlx_lm.server /
// mlx_lm.generate command lines (args.ts) and the parser for what mlx_lm.generate and mlx_lm.benchmark print (parse.ts).
import type { EnginePlugin } from "../engine-contract.js";
import { buildMlxArgs, mlxExport } from "./args.js";
import { compileMlx } from "./memory.js";
import { parseMlxLog } from "./parse.js";
import { MLX_KERNELS } from "./speed.js";

export { buildMlxArgs, buildMlxServerArgs } from "./args.js";
export type { MlxLaunch } from "./args.js";
export { parseMlxLog } from "./parse.js";
export type { MlxRun, MlxTrial } from "./parse.js";
export { mlxKvBytesPerElem, mlxKvCapacity, MLX_KV_STEP, MLX_PREFILL_STEP, MLX_KV_GROUP } from "./memory.js";

export const manifest: EnginePlugin = {
  kind: "engine",
  name: "engine-mlx",
  version: "0.1.0",
  description: "mlx-lm on Apple Silicon: memory rules, mlx_lm.server / mlx_lm.generate command lines and mlx_lm generate/benchmark output parsing",
  id: "mlx",
  label: "MLX (mlx-lm)",
  aliases: ["mlx-lm", "mlx_lm"],
  loadsVision: true,
  defaults: { kvDtype: "f16" },
  compile: compileMlx,
  speed: MLX_KERNELS,
  usableBytes: (memoryBytes) => memoryBytes,
  defaultFor: ["metal"],
  // MLX-quantized checkpoints (mlx-4bit, mlx-mxfp4, …) load only here.
  ownsWeights: (weights) => /^mlx/i.test(weights),
  pipelineOrder: (devices) => devices,
  embedding: { home: "first-stage" },
  exportCommands: mlxExport,
  launch: {
    binary: "mlx_lm.generate",
    modelFile: "hf",
    // mlx_lm.generate is one-shot and prints its own prompt/generation speed and peak memory.
    mode: "oneshot",
    args: (i) =>
      buildMlxArgs({ model: i.modelRef, deployment: i.dep, tool: "generate", prompt: i.prompt ?? "hello ".repeat(i.promptTokens ?? 8).trim(), maxTokens: i.gen }).slice(1),
    actuals(log) {
      const last = parseMlxLog(log).at(-1);
      return { promptTokensPerSecond: last?.promptTps, decodeTokensPerSecond: last?.generationTps };
    },
  },
};
