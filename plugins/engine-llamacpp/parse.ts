// Parser for what llama.cpp prints (llama-server, llama-cli, node-llama-cpp's logger, Ollama's runner): model
// metadata, buffer sizes, KV/recurrent cache sizes, compute buffers and timings. Covers the 2024 wording
// (llm_load_tensors, KV self size, llama_kv_cache_init) to the current one (load_tensors, llama_kv_cache: size =).
// The log prints MiB with two decimals: byte figures here are rounded from them (±5 KiB per line).

const MIB = 1024 * 1024;
const mib = (s: string) => Math.round(Number(s) * MIB);
const ANSI = /\x1b\[[0-9;]*m/g;

export interface LlamaCppKvCacheLine {
  /** "llama_kv_cache", "llama_kv_cache_unified", … */
  source: string;
  cells: number;
  layers: number;
  seqs?: number;
  streams?: number;
  kType: string;
  vType: string;
  kBytes: number;
  vBytes: number;
  bytes: number;
  /** The MiB figures as printed, for exact comparison at the printed precision. */
  printed: { size: string; k: string; v: string };
}

export interface LlamaCppRecurrentLine {
  cells: number;
  layers: number;
  seqs: number;
  rType: string;
  sType: string;
  rBytes: number;
  sBytes: number;
  bytes: number;
  printed: { size: string; r: string; s: string };
}

export interface LlamaCppTiming {
  promptTokens: number;
  promptMs: number;
  promptTokensPerSecond: number;
  decodeTokens?: number;
  decodeMs?: number;
  decodeTokensPerSecond?: number;
}

export interface LlamaCppLogFacts {
  build?: string;
  arch?: string;
  modelName?: string;
  fileType?: string;
  nCtxTrain?: number;
  nEmbd?: number;
  nLayer?: number;
  nHead?: number;
  nHeadKv?: number;
  nSwa?: number;
  nVocab?: number;
  nExpert?: number;
  nSeqMax?: number;
  nCtx?: number;
  nCtxSeq?: number;
  nBatch?: number;
  nUbatch?: number;
  flashAttn?: string;
  kvUnified?: boolean;
  /** "model buffer size" per buffer name (CPU_Mapped, CUDA0, CPU_REPACK, …). */
  weightsBytesByBuffer: Record<string, number>;
  /** Sum of the model buffers (CPU_REPACK is a repacked copy of CPU weights and is included, as it is allocated). */
  weightsBytes: number;
  kvCaches: LlamaCppKvCacheLine[];
  recurrent: LlamaCppRecurrentLine[];
  /** Every KV and recurrent cache together (what hwledger's kvCacheBytes predicts). */
  kvCacheBytes: number;
  /** Cells of the first (base) KV cache. */
  kvCells?: number;
  kvBuffersByDevice: Record<string, number>;
  /** Compute buffers of the language model context (not the mmproj/CLIP ones). */
  computeBytesByBuffer: Record<string, number>;
  computeBytes: number;
  outputBytes?: number;
  timings: LlamaCppTiming[];
  promptTokensPerSecond?: number;
  decodeTokensPerSecond?: number;
}

const META: Array<[keyof LlamaCppLogFacts, RegExp, "n" | "s"]> = [
  ["arch", /(?:print_info|llm_load_print_meta): arch\s+= (\S+)/, "s"],
  ["fileType", /(?:print_info|llm_load_print_meta): (?:file type|model ftype)\s+= (.+?)\s*$/, "s"],
  ["modelName", /(?:print_info|llm_load_print_meta): general\.name\s+= (.+?)\s*$/, "s"],
  ["nCtxTrain", /(?:print_info|llm_load_print_meta): n_ctx_train\s+= (\d+)/, "n"],
  ["nEmbd", /(?:print_info|llm_load_print_meta): n_embd\s+= (\d+)/, "n"],
  ["nLayer", /(?:print_info|llm_load_print_meta): n_layer\s+= (\d+)/, "n"],
  ["nHead", /(?:print_info|llm_load_print_meta): n_head\s+= (\d+)/, "n"],
  ["nHeadKv", /(?:print_info|llm_load_print_meta): n_head_kv\s+= (\d+)/, "n"],
  ["nSwa", /(?:print_info|llm_load_print_meta): n_swa\s+= (\d+)/, "n"],
  ["nVocab", /(?:print_info|llm_load_print_meta): n_vocab\s+= (\d+)/, "n"],
  ["nExpert", /(?:print_info|llm_load_print_meta): n_expert\s+= (\d+)/, "n"],
  ["nSeqMax", /llama_(?:context|new_context_with_model): n_seq_max\s+= (\d+)/, "n"],
  ["nCtx", /llama_(?:context|new_context_with_model): n_ctx\s+= (\d+)/, "n"],
  ["nCtxSeq", /llama_(?:context|new_context_with_model): n_ctx_seq\s+= (\d+)/, "n"],
  ["nBatch", /llama_(?:context|new_context_with_model): n_batch\s+= (\d+)/, "n"],
  ["nUbatch", /llama_(?:context|new_context_with_model): n_ubatch\s+= (\d+)/, "n"],
  ["flashAttn", /llama_(?:context|new_context_with_model): flash_attn\s+= (\S+)/, "s"],
  ["build", /(?:^|\s)build(?:_info)?: (b?\d+[^\s]*(?: \([0-9a-f]+\))?)/, "s"],
];

const KV_LINE = /(llama_kv_cache\w*): size =\s*([\d.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers,\s*(\d+)(?:\/(\d+))? seqs\), K \((\w+)\):\s*([\d.]+) MiB, V \((\w+)\):\s*([\d.]+) MiB/;
const KV_SELF = /KV self size\s*=\s*([\d.]+) MiB, K \((\w+)\):\s*([\d.]+) MiB, V \((\w+)\):\s*([\d.]+) MiB/;
const RS_LINE = /llama_memory_recurrent: size =\s*([\d.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers,\s*(\d+) seqs[^)]*\), R \((\w+)\):\s*([\d.]+) MiB, S \((\w+)\):\s*([\d.]+) MiB/;
const MODEL_BUF = /(?:load_tensors|llm_load_tensors):\s+(\S+?)(?: model)? buffer size =\s*([\d.]+) MiB/;
const KV_BUF = /(?:llama_kv_cache\w*|llama_memory_recurrent):\s+(\S+) (?:KV|RS) buffer size =\s*([\d.]+) MiB/;
const COMPUTE = /(sched_reserve|llama_context|llama_new_context_with_model|llama_init_from_model):\s+(\S+) compute buffer size =\s*([\d.]+) MiB/;
const OUTPUT = /(?:llama_context|llama_new_context_with_model|llama_init_from_model):\s+(\S+)\s+output buffer size =\s*([\d.]+) MiB/;
const PROMPT = /prompt eval time =\s*([\d.]+) ms \/\s*(\d+) (?:tokens|runs)\s*\(\s*[\d.]+ ms per token,\s*([\d.]+) tokens per second\)/;
const EVAL = /(?:^|[^t] )eval time =\s*([\d.]+) ms \/\s*(\d+) (?:tokens|runs)\s*\(\s*[\d.]+ ms per token,\s*([\d.]+) tokens per second\)/;

export function parseLlamaCppLog(text: string): LlamaCppLogFacts {
  const f: LlamaCppLogFacts = {
    weightsBytesByBuffer: {},
    weightsBytes: 0,
    kvCaches: [],
    recurrent: [],
    kvCacheBytes: 0,
    kvBuffersByDevice: {},
    computeBytesByBuffer: {},
    computeBytes: 0,
    timings: [],
  };
  const rec = f as unknown as Record<string, unknown>;
  let pending: LlamaCppTiming | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(ANSI, "");
    for (const [key, re, kind] of META) {
      if (rec[key] !== undefined) continue;
      const m = re.exec(line);
      if (m) rec[key] = kind === "n" ? Number(m[1]) : m[1].trim();
    }
    let m: RegExpExecArray | null;
    if (f.kvUnified === undefined && (m = /kv_unified\s+= (true|false)/.exec(line))) f.kvUnified = m[1] === "true";
    if ((m = KV_LINE.exec(line))) {
      const kBytes = mib(m[8]);
      const vBytes = mib(m[10]);
      f.kvCaches.push({ source: m[1], cells: Number(m[3]), layers: Number(m[4]), seqs: Number(m[5]), streams: m[6] ? Number(m[6]) : undefined, kType: m[7], kBytes, vType: m[9], vBytes, bytes: mib(m[2]), printed: { size: m[2], k: m[8], v: m[10] } });
    } else if ((m = KV_SELF.exec(line))) {
      f.kvCaches.push({ source: "KV self", cells: f.nCtx ?? 0, layers: f.nLayer ?? 0, kType: m[2], kBytes: mib(m[3]), vType: m[4], vBytes: mib(m[5]), bytes: mib(m[1]), printed: { size: m[1], k: m[3], v: m[5] } });
    } else if ((m = RS_LINE.exec(line))) {
      f.recurrent.push({ cells: Number(m[2]), layers: Number(m[3]), seqs: Number(m[4]), rType: m[5], rBytes: mib(m[6]), sType: m[7], sBytes: mib(m[8]), bytes: mib(m[1]), printed: { size: m[1], r: m[6], s: m[8] } });
    } else if ((m = MODEL_BUF.exec(line))) {
      f.weightsBytesByBuffer[m[1]] = (f.weightsBytesByBuffer[m[1]] ?? 0) + mib(m[2]);
    } else if ((m = KV_BUF.exec(line))) {
      f.kvBuffersByDevice[m[1]] = (f.kvBuffersByDevice[m[1]] ?? 0) + mib(m[2]);
    } else if ((m = COMPUTE.exec(line))) {
      // The last reservation wins per buffer: llama.cpp re-reserves after resolving flash attention.
      f.computeBytesByBuffer[m[2]] = mib(m[3]);
    } else if ((m = OUTPUT.exec(line))) {
      f.outputBytes = mib(m[2]);
    } else if ((m = PROMPT.exec(line))) {
      pending = { promptMs: Number(m[1]), promptTokens: Number(m[2]), promptTokensPerSecond: Number(m[3]) };
      f.timings.push(pending);
    } else if ((m = EVAL.exec(line)) && pending) {
      pending.decodeMs = Number(m[1]);
      pending.decodeTokens = Number(m[2]);
      pending.decodeTokensPerSecond = Number(m[3]);
      pending = undefined;
    }
  }
  f.weightsBytes = Object.values(f.weightsBytesByBuffer).reduce((a, b) => a + b, 0);
  f.computeBytes = Object.values(f.computeBytesByBuffer).reduce((a, b) => a + b, 0);
  f.kvCacheBytes = f.kvCaches.reduce((a, c) => a + c.bytes, 0) + f.recurrent.reduce((a, c) => a + c.bytes, 0);
  f.kvCells = f.kvCaches[0]?.cells;
  const last = f.timings[f.timings.length - 1];
  if (last) {
    f.promptTokensPerSecond = last.promptTokensPerSecond;
    f.decodeTokensPerSecond = last.decodeTokensPerSecond;
  }
  return f;
}

/**
 * GGUF metadata as llama.cpp's loader prints it (`llama_model_loader: - kv  N: key type = value`): scalars only;
 * printed arrays are truncated by llama.cpp and are skipped.
 */
export function ggufMetadataFromLog(text: string): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const re = /llama_model_loader: - kv\s+\d+:\s+(\S+)\s+(u8|i8|u16|i16|u32|i32|u64|i64|f32|f64|bool|str)\s+= (.*?)\s*$/;
  for (const raw of text.split(/\r?\n/)) {
    const m = re.exec(raw.replace(ANSI, ""));
    if (!m) continue;
    out[m[1]] = m[2] === "str" ? m[3] : m[2] === "bool" ? m[3] === "true" : Number(m[3]);
  }
  return out;
}
