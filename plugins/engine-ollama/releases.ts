// Ollama's defaults per release, each from the ollama/ollama source at the tag named (envconfig/config.go,
// server/sched.go, server/routes.go). A deployment follows `options.ollamaVersion`, else OLLAMA_DEFAULT_RELEASE.
import { InputError } from "../../lib/calc/index.js";

/**
 * The newest release whose placement hwledger ports: llm/memory.go estimateGPULayers was deleted in 0.12.11
 * (commit f560bd0 "llm: Use Ollama engine memory layouts for both old and new engines"), after which Ollama places
 * layers by trial allocations of the real buffers, i.e. llama.cpp's own sizes.
 */
export const OLLAMA_DEFAULT_RELEASE = "0.12.10";
export const OLLAMA_ESTIMATOR_LAST = "0.12.10";

const GIB = 1024 ** 3;

export function parseOllamaVersion(v: string): number[] {
  const m = /^v?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?$/.exec(v.trim());
  if (!m) throw new InputError(`--ollama-version must look like 0.12.10 (MAJOR.MINOR[.PATCH]), got ${JSON.stringify(v)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** a ≥ b as releases. */
export function atLeast(release: string, b: string): boolean {
  const x = parseOllamaVersion(release);
  const y = parseOllamaVersion(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return true;
}

/**
 * num_ctx when neither the request, the Modelfile nor OLLAMA_CONTEXT_LENGTH sets it (envconfig/config.go
 * ContextLength): 2048 before 0.6.7; 4096 from 0.6.7 (commit 44b466e "config: update default context length to
 * 4096"); from 0.15.5 tiered by total VRAM (server/routes.go, commit 0334ffa): ≥ 47 GiB 262144, ≥ 23 GiB 32768,
 * else 4096.
 */
export function ollamaDefaultNumCtx(release: string, totalVramBytes?: number): number {
  if (!atLeast(release, "0.6.7")) return 2048;
  if (!atLeast(release, "0.15.5") || totalVramBytes === undefined) return 4096;
  if (totalVramBytes >= 47 * GIB) return 262144;
  if (totalVramBytes >= 23 * GIB) return 32768;
  return 4096;
}

/**
 * Parallel requests per loaded model when OLLAMA_NUM_PARALLEL is unset. From 0.10.0 envconfig NumParallel defaults
 * to 1 (commit 20c3266, #11330). Before, 0 meant auto: server/sched.go pickBestFullFitByLibrary tries
 * defaultParallel (4; 2 from 0.6.7, commit 424f648) and falls back to 1 when the model does not fit fully.
 */
export function ollamaDefaultParallel(release: string): { tryFirst: number; fallback: number } {
  if (atLeast(release, "0.10.0")) return { tryFirst: 1, fallback: 1 };
  return { tryFirst: atLeast(release, "0.6.7") ? 2 : 4, fallback: 1 };
}

/**
 * OLLAMA_FLASH_ATTENTION unset: off up to 0.12.5 (envconfig Bool, false); from 0.12.6 BoolWithDefault takes the
 * model's own default (on for models the Ollama engine runs with flash attention). hwledger says on from 0.12.6.
 */
export function ollamaDefaultFlashAttention(release: string): boolean {
  return atLeast(release, "0.12.6");
}

/** num_batch (api/types.go DefaultOptions NumBatch: 512); the runner passes it as n_batch, n_ubatch stays 512. */
export const OLLAMA_NUM_BATCH = 512;

/**
 * Memory Ollama keeps free on each GPU besides OLLAMA_GPU_OVERHEAD (default 0, envconfig GpuOverhead):
 * discover/gpu.go cudaMinimumMemory = rocmMinimumMemory = 457 MiB, discover/gpu_darwin.go metalMinimumMemory = 512 MiB.
 */
export function ollamaMinimumMemory(library: "cuda" | "rocm" | "metal" | "cpu"): number {
  if (library === "metal") return 512 * 1024 ** 2;
  if (library === "cpu") return 0;
  return 457 * 1024 ** 2;
}
