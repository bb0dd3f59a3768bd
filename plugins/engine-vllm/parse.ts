// Parsers for what a real vLLM prints: start-up logs (V1 engine, 0.8 → 0.25 wording) and /metrics Prometheus text.
// Pure string work: the collector feeds them files or captured output; tests feed verbatim public logs.

const GIB = 1024 ** 3;
const gib = (s: string) => Math.round(Number(s) * GIB);
const int = (s: string) => Number(s.replace(/,/g, ""));
/** ANSI colour codes (Ray / EngineCore prefixes) and carriage-return progress bars. */
const ANSI = /\x1b\[[0-9;]*m/g;

export interface VllmLogFacts {
  /** vLLM version from the banner or "Initializing a V1 LLM engine (v…)". */
  version?: string;
  model?: string;
  tensorParallelSize?: number;
  pipelineParallelSize?: number;
  maxModelLen?: number;
  gpuMemoryUtilization?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  kvCacheDtype?: string;
  dtype?: string;
  quantization?: string;
  enforceEager?: boolean;
  /** "Model loading took X GiB" (older builds print "GB" for the same GiB figure), first worker. */
  weightsBytes?: number;
  /** "Available KV cache memory: X GiB" per line in log order (one per worker). */
  availableKvBytesPerWorker: number[];
  /** The smallest printed budget (num_blocks is the minimum over workers). */
  availableKvBytes?: number;
  /** "GPU KV cache size: N tokens". */
  kvCapacityTokens?: number;
  /** "Maximum concurrency for N tokens per request: Xx". */
  maxConcurrency?: number;
  concurrencyContext?: number;
  /** "Graph capturing finished in S secs, took X GiB" or "CUDA graph pool memory: X GiB (actual)". */
  cudaGraphBytes?: number;
  /** v0.21+: "Estimated CUDA graph memory: X GiB total" (subtracted from the KV budget). */
  estimatedCudaGraphBytes?: number;
  /** "FlashInfer" or "native" top-k/top-p sampler, when the log says. */
  sampler?: "flashinfer" | "native";
  /** "worker init memory snapshot: … total_memory=X GiB" (DEBUG): the GPU's total as the worker measured it. */
  totalMemoryBytes?: number;
  /**
   * Per pipeline stage, the first worker's DEBUG "Memory profiling takes … torch peak memory increase: X GiB;
   * non-torch forward increase memory: Y GiB; weights memory: Z GiB" (gpu_worker.py determine_available_memory).
   */
  profileByStage: Record<number, { worker: string; torchPeakBytes: number; nonTorchBytes: number; weightsBytes: number }>;
}

/** Pipeline stage of a worker prefix: "(Worker_PP1 pid=…)", "(Worker_PP1_TP0 …)"; anything else is stage 0. */
function stageOf(line: string): { worker: string; stage: number } {
  const m = line.match(/\((Worker[\w]*|EngineCore[\w]*)\s+pid=/);
  const worker = m?.[1] ?? "";
  const pp = worker.match(/_PP(\d+)/);
  return { worker, stage: pp ? Number(pp[1]) : 0 };
}

/** Reads a python dict/kwargs value `key=value` or `'key': value` from a config line. */
function pyValue(line: string, key: string): string | undefined {
  const m = line.match(new RegExp(`(?:'${key}':\\s*|\\b${key}=)('([^']*)'|[^,}\\s)]+)`));
  if (!m) return undefined;
  return m[2] ?? m[1];
}

export function parseVllmLog(text: string): VllmLogFacts {
  const facts: VllmLogFacts = { availableKvBytesPerWorker: [], profileByStage: {} };
  const lines = text.replace(ANSI, "").split(/\r?\n|\r/);
  for (const line of lines) {
    let m: RegExpMatchArray | null;
    if ((m = line.match(/vLLM API server version (\S+)/)) || (m = line.match(/█\s+version (\S+)/)) || (m = line.match(/Initializing a V1 LLM engine \(v([^)\s]+)\)/))) {
      facts.version ??= m[1];
    }
    if (line.includes("non-default args:") || line.includes("LLM engine (v")) {
      const model = pyValue(line, "model");
      if (model && !facts.model) facts.model = model;
      const num = (k: string) => {
        const v = pyValue(line, k);
        return v !== undefined && /^[\d.]+$/.test(v) ? Number(v) : undefined;
      };
      facts.tensorParallelSize ??= num("tensor_parallel_size");
      facts.pipelineParallelSize ??= num("pipeline_parallel_size");
      facts.maxModelLen ??= num("max_model_len") ?? num("max_seq_len");
      facts.gpuMemoryUtilization ??= num("gpu_memory_utilization");
      facts.maxNumSeqs ??= num("max_num_seqs");
      facts.maxNumBatchedTokens ??= num("max_num_batched_tokens");
      const kv = pyValue(line, "kv_cache_dtype");
      if (kv) facts.kvCacheDtype ??= kv;
      const dt = pyValue(line, "dtype");
      if (dt) facts.dtype ??= dt.replace(/^torch\./, "");
      const q = pyValue(line, "quantization");
      if (q && q !== "None") facts.quantization ??= q;
      const ee = pyValue(line, "enforce_eager");
      if (ee) facts.enforceEager ??= ee === "True";
    }
    if ((m = line.match(/Model loading took ([\d.]+) Gi?B/))) facts.weightsBytes ??= gib(m[1]);
    if ((m = line.match(/Available KV cache memory: (-?[\d.]+) GiB/))) facts.availableKvBytesPerWorker.push(gib(m[1]));
    if ((m = line.match(/GPU KV cache size: ([\d,]+) tokens/))) facts.kvCapacityTokens ??= int(m[1]);
    if ((m = line.match(/Maximum concurrency for ([\d,]+) tokens per request: ([\d.]+)x/))) {
      facts.concurrencyContext ??= int(m[1]);
      facts.maxConcurrency ??= Number(m[2]);
    }
    if ((m = line.match(/Graph capturing finished in [\d.]+ secs?, took ([\d.]+) GiB/))) facts.cudaGraphBytes ??= gib(m[1]);
    if ((m = line.match(/CUDA graph pool memory: ([\d.]+) GiB \(actual\)/))) facts.cudaGraphBytes = gib(m[1]);
    if ((m = line.match(/Estimated CUDA graph memory: ([\d.]+) GiB/))) facts.estimatedCudaGraphBytes ??= gib(m[1]);
    if ((m = line.match(/worker init memory snapshot: .*\btotal_memory=([\d.]+)GiB/))) facts.totalMemoryBytes ??= gib(m[1]);
    if ((m = line.match(/torch peak memory increase: ([\d.]+)GiB; non-torch forward increase memory: (-?[\d.]+)GiB; weights memory: ([\d.]+)GiB/))) {
      const w = stageOf(line);
      facts.profileByStage[w.stage] ??= { worker: w.worker, torchPeakBytes: gib(m[1]), nonTorchBytes: gib(m[2]), weightsBytes: gib(m[3]) };
    }
    // 0.10+: "Free memory on device (78.66/79.19 GiB) on startup. … Actual usage is X GiB for weight, Y GiB for peak
    // activation, Z GiB for non-torch memory" (gpu_worker.py compile_or_warm_up_model), the one worker that prints it.
    if ((m = line.match(/Free memory on device \([\d.]+\/([\d.]+) GiB\)/))) facts.totalMemoryBytes ??= gib(m[1]);
    if ((m = line.match(/Actual usage is ([\d.]+) GiB for weight, ([\d.]+) GiB for peak activation, (-?[\d.]+) GiB for non-torch memory/))) {
      const w = stageOf(line);
      facts.profileByStage[w.stage] ??= { worker: w.worker, torchPeakBytes: gib(m[2]), nonTorchBytes: gib(m[3]), weightsBytes: gib(m[1]) };
    }
    if (line.includes("Using FlashInfer for top-p & top-k sampling")) facts.sampler ??= "flashinfer";
    if (line.includes("PyTorch-native implementation of top-p & top-k sampling")) facts.sampler ??= "native";
  }
  if (facts.availableKvBytesPerWorker.length) facts.availableKvBytes = Math.min(...facts.availableKvBytesPerWorker);
  return facts;
}

// ---------------------------------------------------------------- /metrics

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface VllmMetrics {
  samples: PromSample[];
  /** Fraction 0–1 of the KV cache in use (vllm:kv_cache_usage_perc, older vllm:gpu_cache_usage_perc). */
  kvCacheUsage?: number;
  requestsRunning?: number;
  requestsWaiting?: number;
  promptTokensTotal?: number;
  generationTokensTotal?: number;
  /** From vllm:cache_config_info labels. */
  numGpuBlocks?: number;
  blockSize?: number;
  gpuMemoryUtilization?: number;
}

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  return out;
}

/** Prometheus text exposition format 0.0.4: `name{labels} value [timestamp]`; comments and blank lines skipped. */
export function parseVllmMetrics(text: string): VllmMetrics {
  const samples: PromSample[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/);
    if (!m) continue;
    const v = m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : Number(m[4]);
    if (Number.isNaN(v) && m[4] !== "NaN") continue;
    samples.push({ name: m[1], labels: m[3] ? parseLabels(m[3]) : {}, value: v });
  }
  const sum = (name: string) => {
    const s = samples.filter((x) => x.name === name);
    return s.length ? s.reduce((a, x) => a + x.value, 0) : undefined;
  };
  const first = (...names: string[]) => {
    for (const n of names) {
      const s = samples.find((x) => x.name === n);
      if (s) return s.value;
    }
    return undefined;
  };
  const info = samples.find((x) => x.name === "vllm:cache_config_info");
  const num = (k: string) => (info && info.labels[k] !== undefined && info.labels[k] !== "None" ? Number(info.labels[k]) : undefined);
  return {
    samples,
    kvCacheUsage: first("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    requestsRunning: sum("vllm:num_requests_running"),
    requestsWaiting: sum("vllm:num_requests_waiting"),
    promptTokensTotal: sum("vllm:prompt_tokens_total"),
    generationTokensTotal: sum("vllm:generation_tokens_total"),
    numGpuBlocks: num("num_gpu_blocks"),
    blockSize: num("block_size"),
    gpuMemoryUtilization: num("gpu_memory_utilization"),
  };
}
