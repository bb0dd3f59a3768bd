// llama.cpp engine plugin. Memory rules from the llama.cpp source bundled with node-llama-cpp 3.22.1: model.ts (what
// llama.cpp reads of a model), context.ts (cell padding, streams, batches), cache.ts (KV and recurrent caches),
// compute.ts (compute buffer), memory.ts (the compiled plan and `fit`); args.ts and parse.ts are its command lines and
// logs; llama-embedded.mjs is the Node runner `hwledger run` uses when a host has no llama-server (never imported).
import type { EnginePlugin, LaunchInputs } from "../engine-contract.js";
import { buildLlamaServerArgs, llamaCppExport, llamaCppRpcCommands } from "./args.js";
import { llamaCppContext } from "./context.js";
import { compileLlamaCpp, llamaCppFit } from "./memory.js";
import { parseLlamaCppLog } from "./parse.js";
import { LLAMACPP_KERNELS } from "./speed.js";
import { fitOffload } from "./fit-offload.js";
import { offloadSegments, rowTotal } from "./offload.js";

export { buildLlamaServerArgs, llamaTensorSplit } from "./args.js";
export type { LlamaServerInputs } from "./args.js";
export { parseLlamaCppLog, ggufMetadataFromLog } from "./parse.js";
export type { LlamaCppLogFacts, LlamaCppKvCacheLine, LlamaCppRecurrentLine, LlamaCppTiming } from "./parse.js";
export { llamaCppContext } from "./context.js";
export type { LlamaCppContext } from "./context.js";
export { llamaCppCaches } from "./cache.js";
export type { LlamaCppCacheDetail } from "./cache.js";
export { llamaCppComputeBuffer } from "./compute.js";
export { offloadSegments, placeLayers, rowTotal } from "./offload.js";
export { draftBuffers } from "./draft.js";
export type { DraftBuffers } from "./draft.js";
export { fitOffload, FIT_MIN_CONTEXT, FIT_TARGET_BYTES } from "./fit-offload.js";
export type { OffloadFit } from "./fit-offload.js";
export { llamaCppSpeed, weightClassOf, LLAMACPP_SPEED_PARAMS } from "./speed.js";
export type { SpeedParam, LlamaCppSpeedConstants } from "./speed.js";

/** llama-server's command line for a run: the plan's context, batch sizes and flash attention. */
function serverArgs(i: LaunchInputs): string[] {
  const ctx = llamaCppContext(i.model, i.dep);
  const o = i.dep.options ?? {};
  return buildLlamaServerArgs({
    model: i.modelRef,
    context: i.dep.context,
    seqs: i.dep.seqs,
    kvDtypeK: i.dep.kvDtypeK,
    kvDtypeV: i.dep.kvDtypeV,
    flashAttention: ctx.flashAttention,
    batch: ctx.nBatch,
    ubatch: ctx.nUbatch,
    kvUnified: o.kvUnified,
    swaFull: o.swaFull,
    host: i.listen,
    port: i.port,
  });
}

/** The embedded runner's options: llama.cpp from node-llama-cpp in a child process, with the plan's context. */
function embeddedArgs(i: LaunchInputs): string[] {
  const ctx = llamaCppContext(i.model, i.dep);
  return [
    JSON.stringify({
      model: i.modelRef,
      contextSize: ctx.nCtxSeq,
      sequences: ctx.nSeq,
      // node-llama-cpp sets n_ubatch = n_batch (AddonContext.cpp); the plan's compute graph is sized by n_ubatch.
      batchSize: ctx.nUbatch,
      flashAttention: ctx.flashAttention,
      kvTypeK: i.dep.kvDtypeK,
      kvTypeV: i.dep.kvDtypeV,
      prompt: i.prompt,
      promptTokens: i.promptTokens,
      gen: i.gen,
      threads: i.threads,
    }),
  ];
}

export const manifest: EnginePlugin = {
  kind: "engine",
  name: "engine-llamacpp",
  version: "0.1.0",
  description: "llama.cpp (llama-server or node-llama-cpp): memory rules, launch arguments from a plan, log parsing into weights, KV, compute buffers and tokens per second",
  id: "llama.cpp",
  label: "llama.cpp",
  aliases: ["llamacpp", "llama-cpp"],
  // Multimodal GGUFs keep the vision tower in a separate mmproj file (tools/mtmd), loaded only with --mmproj.
  loadsVision: false,
  defaults: { kvDtype: "f16" },
  compile: compileLlamaCpp,
  fit: llamaCppFit,
  speed: LLAMACPP_KERNELS,
  // llama.cpp allocates what it needs, up to the whole device.
  usableBytes: (memoryBytes) => memoryBytes,
  defaultFor: ["cpu", "other"],
  // GGUF types and file mixes (Q4_K_M, IQ4_XS, TQ1_0, …) load only here.
  ownsWeights: (weights) => /^(i?q\d|tq\d)/i.test(weights),
  // RPC devices go to the front of llama.cpp's device list (src/llama.cpp llama_model_load_from_file_impl: "add RPC
  // servers at the front of the list"): the user's first device is the main host and runs last, with the output layer.
  pipelineOrder: (devices) => (devices.length > 1 ? [...devices.slice(1), devices[0]] : devices),
  embedding: { home: "host", basis: "llama.cpp keeps token_embd in host RAM (src/llama-model.cpp load_tensors: input layer always on the CPU)" },
  pipelineCommands: { key: "llamaCpp", build: llamaCppRpcCommands },
  // llama.cpp's --fit (common/fit.cpp) at the job's context: the most GPU layers that keep its 1024 MiB target free.
  offload: {
    fit(model, dep, memoryBytes) {
      const f = fitOffload(model, dep, { freeBytes: [memoryBytes], contextFixed: true });
      if (!f.fits || f.gpuLayers === 0) return null;
      return { gpuLayers: f.gpuLayers, layerSlots: f.layerSlots, gpuBytes: f.devices[0].usedBytes, hostBytes: rowTotal(f.host) };
    },
    segments: (nLayer, dep, gpu, host) => offloadSegments(nLayer, dep, [gpu], host),
  },
  exportCommands: llamaCppExport,
  launch: {
    binary: "llama-server",
    modelFile: "gguf",
    mode: "server",
    args: serverArgs,
    // llama-server's /completion (tools/server) prints print_timing for the request.
    request: (i) => ({ path: "/completion", json: { prompt: i.prompt ?? "hello ".repeat(i.promptTokens ?? 8), n_predict: i.gen, temperature: 0, cache_prompt: false } }),
    embedded: { script: "llama-embedded.mjs", args: embeddedArgs },
    // Only what the log showed: a run that died before allocating has no KV figure, not a zero one.
    actuals(log) {
      const f = parseLlamaCppLog(log);
      const has = (o?: object) => o !== undefined && Object.keys(o).length > 0;
      return {
        weightsBytes: has(f.weightsBytesByBuffer) ? f.weightsBytes : undefined,
        kvCacheBytes: f.kvCaches?.length || f.recurrent?.length ? f.kvCacheBytes : undefined,
        computeBytes: has(f.computeBytesByBuffer) ? f.computeBytes : undefined,
        promptTokensPerSecond: f.promptTokensPerSecond,
        decodeTokensPerSecond: f.decodeTokensPerSecond,
      };
    },
  },
};
