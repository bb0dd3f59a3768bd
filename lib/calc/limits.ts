// Bounds on every size a model or a deployment can declare. Each is far above the largest real model or deployment
// (figures beside each), so no real input is refused, while hostile input (a config claiming 1e12 layers, --tp 1e9)
// is refused before any per-layer, per-rank or per-token work is done: planning stays bounded in time and memory.
// Every refusal names the limit and says why it is safe (limitReason), in one line.
import { z } from "zod";
import { InputError } from "./types.js";

export interface Limit {
  max: number;
  why: string;
}

export const LIMITS = {
  /** Llama 3.1 405B has 126 blocks, PaLM 540B 118, Nemotron-H 56B 118: 1024 is 8× the deepest. */
  layers: { max: 1024, why: "8× the deepest real model (Llama 3.1 405B: 126 layers)" },
  /** Qwen3-Next 80B-A3B routes over 512 experts, Kimi K2 384, DeepSeek-V3 256. */
  experts: { max: 4096, why: "8× the most experts of a real model (Qwen3-Next: 512)" },
  /** Gemma 3 uses 262,208 tokens (262,144 + image tokens), Gemma 4 262,144, BLOOM 250,880, NLLB 256,206. */
  vocab: { max: 2_097_152, why: "8× the largest real vocabulary (Gemma 3: 262,208)" },
  /** Megatron-Turing NLG 530B has a 20,480-wide residual stream, PaLM 18,432, Llama 3.1 405B 16,384. */
  hidden: { max: 131_072, why: "6× the widest real model (Megatron-Turing NLG 530B: 20,480)" },
  /** Any other size (MLP width, head size, latent rank, SSM state): MT-NLG's MLP is 81,920 wide, Llama 405B's 53,248. */
  dim: { max: 1_048_576, why: "12× the widest real layer (Megatron-Turing NLG 530B MLP: 81,920)" },
  /** Falcon-180B has 232 attention heads, Llama 3.1 405B and DeepSeek-V3 128. */
  heads: { max: 4096, why: "17× the most attention heads of a real model (Falcon-180B: 232)" },
  /** Llama 4 Scout's max_position_embeddings is 10,485,760 tokens, the longest of any released model. */
  context: { max: 134_217_728, why: "12× the longest real context (Llama 4 Scout: 10,485,760 tokens)" },
  /** vLLM's largest default --max-num-seqs is 1024 (H100/H200, OpenAI server); llama.cpp caps -np at LLAMA_MAX_SEQ 256. */
  seqs: { max: 65_536, why: "64× vLLM's largest default max_num_seqs (1024)" },
  /** One NVLink domain holds at most 72 GPUs today (GB200 NVL72); vLLM also needs heads divisible by TP. */
  tp: { max: 1024, why: "14× the largest NVLink domain (GB200 NVL72: 72 GPUs)" },
  /** A pipeline stage holds at least one layer. */
  pp: { max: 1024, why: "one stage per layer of the deepest allowed model" },
  /** Llama 3 405B trained on TP 8 × PP 16 = 128 ranks per replica; serving uses fewer. */
  ranks: { max: 4096, why: "32× the largest real model-parallel group (Llama 3 405B training: TP 8 × PP 16)" },
  /** A job's total tokens: Llama 4 pre-trained on ~40T tokens, the most any model has seen. */
  tokens: { max: 1e15, why: "25× the largest training corpus (Llama 4: ~40T tokens)" },
  /** Memory of one device in GiB: the largest today are 512 GB (Apple M3 Ultra) and 288 GB (B300, MI355X). */
  deviceGib: { max: 65_536, why: "128× the largest single device memory (Apple M3 Ultra: 512 GB)" },
  /** Money in USD (budgets, prices): a trillion dollars. */
  usd: { max: 1e12, why: "more than any compute budget" },
  /** SSH hosts probed at once (collect --concurrency): one socket each, under the usual open-file limit. */
  parallelHosts: { max: 1024, why: "the usual per-process open-file limit (ulimit -n 1024): one socket per host in flight" },
  /** Seconds (latency bounds): a century. */
  seconds: { max: 3.2e9, why: "a century" },
  /** Depreciation period of owned hardware. */
  years: { max: 100, why: "a century" },
  /** Shares (GPU memory utilization, paid-work utilization). */
  fraction: { max: 1, why: "a share of the whole" },
  /** Electricity price; the dearest national tariffs are below 1 USD/kWh. */
  usdPerKwh: { max: 100, why: "100× the dearest national electricity tariff" },
  /** GGUF header (metadata + tensor infos): the largest real ones (262k-token vocabularies with merges) are ~10 MiB. */
  ggufHeaderBytes: { max: 64 * 1024 * 1024, why: "6× the largest real GGUF header (~10 MiB, 262k-token vocabularies)" },
  /** Tensors in one GGUF: DeepSeek-V3 has ~1,100, older per-expert MoE layouts some thousands. */
  ggufTensors: { max: 262_144, why: "256 per layer of the deepest allowed model; real GGUFs have at most some thousands" },
  /** A text input (config.json, known_hosts, an SSH key): real ones are KiBs, up to ~1 MiB (label maps, big fleets). */
  textFileBytes: { max: 16 * 1024 * 1024, why: "16× the largest real config.json or known_hosts" },
} satisfies Record<string, Limit>;

export type LimitName = keyof typeof LIMITS;

/** "exceeds the limit of N (why)" — the tail of every refusal. */
export function limitReason(name: LimitName): string {
  const l = LIMITS[name];
  return `the limit is ${l.max.toLocaleString("en-US")}: ${l.why}`;
}

/** Throws an InputError naming `what` when `v` is above the named limit. */
export function checkLimit(v: number, name: LimitName, what: string): number {
  if (v > LIMITS[name].max) throw new InputError(`${what} is ${v.toLocaleString("en-US")}, too large (${limitReason(name)})`);
  return v;
}

/** Config keys (HF config.json and GGUF metadata) whose values are bounded by a named limit; other sizes use `dim`. */
const KEY_LIMITS: Array<[RegExp, LimitName]> = [
  [/(^|[._])(num_hidden_layers|n_layers?|num_layers|block_count|depth)$/, "layers"],
  [/(experts|expert_count)$/, "experts"],
  [/vocab_size/, "vocab"],
  [/(^|[._])(hidden_size|n_embd|n_embed|d_model|embedding_length)$/, "hidden"],
  [/(heads|head_count(_kv)?|n_head(_kv)?|num_kv_heads)$/, "heads"],
  [/(max_position_embeddings|n_positions|n_ctx|context_length|max_window_layers|sliding_window|chunk_size|position_embedding_size)$/, "context"],
];

export function limitForKey(key: string): LimitName {
  for (const [re, name] of KEY_LIMITS) if (re.test(key)) return name;
  return "dim";
}

/** A whole number in [min, limit], for flags and deployment fields; the message names `what`. */
export function boundedInt(what: string, min: number, limit: LimitName) {
  const max = LIMITS[limit].max;
  return z.coerce
    .number({ error: `${what} must be a number` })
    .refine((n) => Number.isInteger(n) && n >= min, { message: `${what} must be a whole number ≥ ${min}` })
    .refine((n) => n <= max, { message: `${what} is too large (${limitReason(limit)})` });
}

/** A finite number in (0, limit] or [0, limit], for flags such as GiB, USD and seconds. */
export function boundedNumber(what: string, opts: { positive: boolean; limit: LimitName }) {
  const max = LIMITS[opts.limit].max;
  return z.coerce
    .number({ error: `${what} must be a number` })
    .refine((n) => Number.isFinite(n) && (opts.positive ? n > 0 : n >= 0), { message: `${what} must be ${opts.positive ? "positive" : "zero or more"}` })
    .refine((n) => n <= max, { message: `${what} is too large (${limitReason(opts.limit)})` });
}
