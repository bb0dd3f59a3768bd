// llama.cpp engine plugin: launch arguments for llama-server and a parser for its log.
// The embedded engine for tests and `hwledger run` without a llama-server is node-llama-cpp (CPU build).
export { buildLlamaServerArgs } from "./args.js";
export type { LlamaServerInputs } from "./args.js";
export { parseLlamaCppLog, ggufMetadataFromLog } from "./parse.js";
export type { LlamaCppLogFacts, LlamaCppKvCacheLine, LlamaCppRecurrentLine, LlamaCppTiming } from "./parse.js";

export const manifest = {
  kind: "engine" as const,
  name: "llama.cpp",
  version: "0.1.0",
  description: "llama.cpp (llama-server or node-llama-cpp): launch arguments from a plan, log parsing into weights, KV, compute buffers and tokens per second",
  engine: "llama.cpp" as const,
  binaries: ["llama-server"],
};
