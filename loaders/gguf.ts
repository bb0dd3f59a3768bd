// GGUF headers: architecture from llama.cpp's metadata keys and exact bytes per tensor, read by gguf-header.ts
// (a local file, or an http(s) URL through HTTP range requests).
import { basename } from "node:path";
import { closeSync, existsSync } from "node:fs";
import { InputError, checkLimit, fullAttention, ggmlType, ggufLayerPattern, isRecurrentBetweenFull, isSwaLayer, latentAttention } from "../lib/calc/index.js";
import { limitForKey } from "../lib/calc/limits.js";
import { ggufFieldNames, validateModelSpec } from "../lib/calc/arch/validate.js";
import type { CacheSpec, LayerSpec, ModelSpec, TensorRole, TensorSpec } from "../lib/calc/index.js";
import type { ResolvedModel } from "./models.js";
import { openRegularFile, readAt } from "./files.js";
import { GgufLongArray, readGgufHeader } from "./gguf-header.js";
import { parseHubGgufRef, resolveHubGguf } from "./gguf-hub.js";
import type { ByteSource } from "./gguf-header.js";

type Meta = Record<string, unknown>;

export interface GgufTensorIn {
  name: string;
  shape: number[];
  /** ggml type id as stored in the header. */
  type: number;
}

function roleOf(name: string): TensorRole {
  const n = name.replace(/\.weight$/, "");
  if (n === "token_embd") return "embedding";
  if (n === "output") return "lm_head";
  if (/_norm$|\.bias$|_b$/.test(n) || /\.ssm_(a|d)$/.test(n)) return "norm";
  if (n.includes("ffn_gate_inp")) return "router";
  if (/_exps$/.test(n)) return "expert";
  if (/_shexp$/.test(n)) return "shared_expert";
  if (n.includes(".ssm_")) return "ssm";
  if (n.includes(".attn_")) return "attention";
  if (n.includes(".ffn_")) return "ffn";
  return "other";
}

/** A per-layer value: llama.cpp accepts a scalar or an array per layer (llama_model_loader::get_key_or_arr). */
function perLayer(v: unknown, i: number): number | undefined {
  if (Array.isArray(v)) return typeof v[i] === "number" ? v[i] : undefined;
  return typeof v === "number" ? v : undefined;
}

/**
 * ModelSpec from GGUF metadata + tensor infos, following how llama.cpp reads its hparams
 * (llama-hparams.cpp n_embd_k_gqa = n_embd_head_k × n_head_kv(il); set_swa_pattern; is_recr per arch;
 * has_kv via n_layer_kv_from_start; n_embd_r / n_embd_s for recurrent state).
 */
export function modelFromGguf(meta: Meta, tensors: GgufTensorIn[], label: string): ModelSpec {
  const arch = meta["general.architecture"];
  if (typeof arch !== "string" || !arch) throw new InputError(`${label}: GGUF has no general.architecture`);
  const k = (key: string) => meta[`${arch}.${key}`];
  // Every size is a whole number within its limit (lib/calc/limits.ts) before any per-layer work is done.
  const num = (key: string, fallback?: number): number => {
    const v = k(key);
    if (v === undefined && fallback !== undefined) return fallback;
    if (v === undefined) throw new InputError(`${label}: GGUF metadata lacks ${arch}.${key}`);
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw new InputError(`${label}: GGUF metadata ${arch}.${key} must be a whole number ≥ 0, got ${String(v)}`);
    return checkLimit(n, limitForKey(key), `${label}: GGUF metadata ${arch}.${key}`);
  };
  const nLayer = num("block_count");
  const nEmbd = num("embedding_length");
  const headCount = k("attention.head_count");
  const headCountKv = k("attention.head_count_kv") ?? headCount;
  const nHead0 = perLayer(headCount, 0) ?? 0;
  const tokens = meta["tokenizer.ggml.tokens"];
  const tokEmb = tensors.find((t) => t.name === "token_embd.weight");
  const nTokens = Array.isArray(tokens) ? tokens.length : tokens instanceof GgufLongArray ? tokens.length : undefined;
  const vocab = num("vocab_size", nTokens ?? (tokEmb ? tokEmb.shape[1] : 0));
  const headK = num("attention.key_length", nHead0 ? nEmbd / nHead0 : 0);
  const headV = num("attention.value_length", headK);
  const headKSwa = num("attention.key_length_swa", headK);
  const headVSwa = num("attention.value_length_swa", headV);
  const nSwa = num("attention.sliding_window", 0);
  const swaPatternKey = k("attention.sliding_window_pattern");
  // Which layers slide, chunk or recur when the header does not list them: the family's declared pattern (lib/calc/arch).
  const pattern = ggufLayerPattern(arch);
  const chunk = pattern?.chunkDefault ? num("attention.chunk_size", pattern.chunkDefault) : 0;
  const isSwa = (i: number): boolean => {
    if (Array.isArray(swaPatternKey)) return Boolean(swaPatternKey[i]);
    const p = typeof swaPatternKey === "number" ? swaPatternKey : pattern?.swaPeriod;
    if ((nSwa <= 0 && !chunk) || p === undefined) return false;
    return isSwaLayer(p, i);
  };
  const sharedKv = num("attention.shared_kv_layers", 0);
  const kvFromStart = arch === "gemma3n" ? 20 : sharedKv ? nLayer - sharedKv : nLayer;
  const nextn = num("nextn_predict_layers", 0);
  // MLA (deepseek2 and kin): key_length_mla present (what each engine caches of it: lib/calc/cache/mla.ts).
  const kvLora = num("attention.kv_lora_rank", 0);
  const isMla = kvLora > 0 && k("attention.key_length_mla") !== undefined;
  const ropeDim = num("rope.dimension_count", headK);
  // Recurrent state sizes (llama-hparams.cpp n_embd_r, n_embd_s).
  const dConv = num("ssm.conv_kernel", 0);
  const dInner = num("ssm.inner_size", 0);
  const dState = num("ssm.state_size", 0);
  const nGroup = num("ssm.group_count", 0);
  const convElems = (dConv > 0 ? dConv - 1 : 0) * (dInner + 2 * nGroup * dState);
  const stateElems = dState * dInner;
  const recurrent = pattern?.recurrent;
  const rl = recurrent?.layers;
  const fullInterval = typeof rl === "object" ? num("full_attention_interval", rl.fullEvery) : 0;
  const isRecr = (i: number): boolean => {
    if (rl === "all") return true;
    if (typeof rl === "object") return isRecurrentBetweenFull(fullInterval, i);
    if (rl === "no-kv-heads" || rl === "no-kv-heads-no-ffn") return dInner > 0 && perLayer(headCountKv, i) === 0 && (rl === "no-kv-heads" || perLayer(k("feed_forward_length"), i) === 0);
    return false;
  };
  const nExpert = num("expert_count", 0);
  const moe = nExpert > 0 ? { experts: nExpert, activeExperts: num("expert_used_count", 1), sharedExperts: num("expert_shared_count", 0) } : undefined;

  const byLayer: TensorSpec[][] = Array.from({ length: nLayer }, () => []);
  const globals: TensorSpec[] = [];
  const tensorBytes: Record<string, number> = {};
  const tensorTypes: Record<string, string> = {};
  for (const t of tensors) {
    const type = ggmlType(t.type);
    if (!type) throw new InputError(`${label}: tensor ${t.name} has ggml type ${t.type}, unknown to hwledger`);
    let n = 1;
    for (const d of t.shape) n *= d;
    tensorBytes[t.name] = (n / type.blockSize) * type.typeSize;
    tensorTypes[t.name] = type.name;
    const spec: TensorSpec = { name: t.name, shape: t.shape, role: roleOf(t.name) };
    const m = /^blk\.(\d+)\./.exec(t.name);
    const li = m ? Number(m[1]) : -1;
    if (li >= 0 && li < nLayer) byLayer[li].push(spec);
    else globals.push(spec);
  }

  const layers: LayerSpec[] = [];
  for (let i = 0; i < nLayer; i++) {
    let cache: CacheSpec;
    let kind: string;
    const nKv = perLayer(headCountKv, i) ?? 0;
    if (i >= kvFromStart || i >= nLayer - nextn) {
      cache = { kind: "none" };
      kind = i >= kvFromStart ? "attention (shared KV)" : "nextn";
    } else if (isRecr(i)) {
      cache = { kind: "recurrent", variant: recurrent!.variant, convElems, stateElems };
      kind = cache.variant;
    } else if (isMla) {
      cache = latentAttention(perLayer(headCount, i) ?? nHead0, kvLora, ropeDim, num("attention.key_length_mla") - ropeDim, num("attention.value_length_mla", headV));
      kind = "mla";
    } else if (nKv === 0) {
      cache = { kind: "none" };
      kind = "mlp";
    } else if (isSwa(i)) {
      cache = chunk
        ? { kind: "chunked", nKvHeads: nKv, headDimK: headK, headDimV: headV, chunk }
        : { kind: "sliding", nKvHeads: nKv, headDimK: headKSwa, headDimV: headVSwa, window: nSwa };
      kind = cache.kind;
    } else {
      cache = fullAttention(nKv, headK, headV);
      kind = "attention";
    }
    const l: LayerSpec = { index: i, kind, cache, tensors: byLayer[i] };
    if (moe && byLayer[i].some((t) => t.role === "expert")) l.moe = moe;
    layers.push(l);
  }
  const name = typeof meta["general.name"] === "string" && meta["general.name"] ? (meta["general.name"] as string) : label;
  const headsOf = (i: number) => perLayer(headCount, i) ?? nHead0;
  return validateModelSpec({
    id: name,
    modelType: arch,
    family: "gguf",
    hiddenSize: nEmbd,
    vocabSize: vocab,
    nHeads: nHead0,
    maxContext: num("context_length", 4096),
    tiedEmbeddings: !tensors.some((t) => t.name === "output.weight"),
    nativeDtype: "gguf",
    nativeQuant: "gguf",
    layers,
    globals,
    gguf: { tensorBytes, tensorTypes },
    notes: [],
  }, ggufFieldNames(arch), headsOf);
}

/** A local GGUF: a regular file only (a FIFO or device would block or never end), read at positions. */
function localSource(file: string): ByteSource & { close(): void } {
  const { fd, size } = openRegularFile(file, "GGUF file");
  return { label: file, size, read: async (pos, len) => readAt(fd, pos, Math.max(0, Math.min(len, size - pos))), close: () => closeSync(fd) };
}

/** Seconds a remote GGUF range request may take (a host that never answers must not hang the command). */
const REMOTE_TIMEOUT_MS = 8000;

/** A remote GGUF through HTTP range requests; the size comes from Content-Range when the server gives it. */
function remoteSource(url: string): ByteSource {
  const src: ByteSource = {
    label: url,
    async read(pos, len) {
      let res: Response;
      try {
        res = await fetch(url, { headers: { range: `bytes=${pos}-${pos + len - 1}` }, signal: AbortSignal.timeout(REMOTE_TIMEOUT_MS) });
      } catch (e) {
        throw new InputError(`${url}: cannot fetch the GGUF header (${(e as Error).message.split("\n")[0]})`);
      }
      if (res.status !== 206 && res.status !== 200) throw new InputError(`${url}: HTTP ${res.status} fetching the GGUF header`);
      const total = /\/(\d+)\s*$/.exec(res.headers.get("content-range") ?? "");
      if (total) src.size = Number(total[1]);
      // A server that ignores the range sends the whole file: read only up to what was asked, then stop.
      const skip = res.status === 200 ? pos : 0;
      const chunks: Buffer[] = [];
      let got = 0;
      const reader = res.body!.getReader();
      while (got < skip + len) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(Buffer.from(value));
        got += value.length;
      }
      await reader.cancel().catch(() => undefined);
      return Buffer.concat(chunks).subarray(skip, skip + len);
    },
  };
  return src;
}

/**
 * Reads a GGUF header (a local path, or an http(s) URL with range requests) into a ModelSpec with exact tensor
 * bytes. A split file (`name-00001-of-00003.gguf`, llama-gguf-split) is read shard by shard: metadata from the
 * first, tensors from all. `org/repo[:quant|:file]` names a GGUF on the HF hub (gguf-hub.ts).
 */
export async function resolveGguf(ref: string): Promise<ResolvedModel> {
  // org/repo[:quant|:file]: the hub's resolve/ URL (loaders/gguf-hub.ts), read like any URL.
  const hub = parseHubGgufRef(ref);
  const file = hub ? await resolveHubGguf(ref, hub) : ref;
  const remote = /^https?:\/\//i.test(file);
  if (!remote && /^[a-z][a-z0-9+.-]*:\/\//i.test(file)) throw new InputError(`${file}: a GGUF is a local path or an http(s) URL`);
  if (remote && process.env.HWLEDGER_OFFLINE) throw new InputError(`${file}: remote GGUF needs the network and offline mode is on`);
  const { parseGgufShardFilename } = await import("@huggingface/gguf");
  const shard = parseGgufShardFilename(file);
  const files = shard
    ? Array.from({ length: Number(shard.total) }, (_, i) => `${shard.prefix}-${String(i + 1).padStart(5, "0")}-of-${shard.total}.gguf`)
    : [file];
  const tensors: GgufTensorIn[] = [];
  let meta: Meta | undefined;
  for (const f of files) {
    if (!remote && f !== file && !existsSync(f)) throw new InputError(`${file}: shard ${f} is missing`);
    const src = remote ? remoteSource(f) : localSource(f);
    try {
      const h = await readGgufHeader(src);
      meta ??= h.metadata;
      for (const t of h.tensors) tensors.push({ name: t.name, shape: t.shape, type: t.type });
      checkLimit(tensors.length, "ggufTensors", `${file}: its tensor count`);
    } finally {
      if ("close" in src) (src as { close(): void }).close();
    }
  }
  const model = modelFromGguf(meta!, tensors, remote ? file : basename(file));
  if (model.vocabSize === 0) throw new InputError(`${file}: the GGUF has no vocabulary (no tokenizer.ggml.tokens, vocab_size or token_embd)`);
  const config = Object.fromEntries(Object.entries(meta!).filter(([key, v]) => !key.startsWith("tokenizer.ggml.") && !(v instanceof GgufLongArray)).map(([key, v]) => [key, typeof v === "bigint" ? Number(v) : v]));
  return { model, config, origin: "gguf", source: file };
}

/** Total tensor bytes of a local GGUF with any architecture (an mmproj projector: clip.cpp loads its tensors as one buffer). */
export async function ggufTensorBytes(file: string): Promise<number> {
  if (!existsSync(file)) throw new InputError(`${file}: no such GGUF file`);
  const src = localSource(file);
  try {
    const h = await readGgufHeader(src);
    let total = 0;
    for (const t of h.tensors) {
      const type = ggmlType(t.type);
      if (!type) throw new InputError(`${file}: tensor ${t.name} has ggml type ${t.type}, unknown to hwledger`);
      total += (t.shape.reduce((a, b) => a * b, 1) / type.blockSize) * type.typeSize;
    }
    return total;
  } finally {
    if ("close" in src) (src as { close(): void }).close();
  }
}
