// Where llama.cpp puts each layer and buffer (-ngl, --split-mode, --tensor-split, --no-kv-offload, --mmproj, a
// draft model, mmap), and the per-backend buffers it prints ("CUDA0 model buffer size", "CPU_Mapped model buffer
// size", "CUDA0 KV buffer size", "CUDA0 compute buffer size"). Rules from the llama.cpp source bundled with
// node-llama-cpp 3.22.1; each names its file and function.
import { InputError, weightBytes } from "../../lib/calc/index.js";
import type { DeploymentShape, DeviceBuffers, DeviceCaps, ModelSpec, SpeedSegment, TensorSpec } from "../../lib/calc/index.js";
import { cachePerLayer, cachesAt } from "./cache.js";
import type { LlamaCacheTable } from "./cache.js";
import { computeStages } from "./compute.js";
import type { LlamaModel } from "./model.js";

/** Host index in a placement's slots. */
export const HOST = -1;

export interface LlamaPlacement {
  /** Backend names of the GPUs ("CUDA0", …); empty when llama.cpp runs on the host alone. */
  gpus: string[];
  /** Device per layer slot 0..n_layer (slot n_layer is the output layer): a GPU index or HOST. */
  slot: number[];
  /** Layer slots on GPUs (-ngl after clamping to n_layer + 1). */
  gpuLayers: number;
  splitMode: "layer" | "row" | "none";
  /** Cumulative, normalized split points per GPU (load_tensors). */
  splits: number[];
}

/** The backend's device name prefix as llama.cpp registers it (ggml-cuda "CUDA", ggml-metal "MTL", ggml-vulkan "Vulkan"). */
function backendPrefix(shape: DeploymentShape): string | null {
  const o = shape.options;
  const b = o?.llamaCppBackend;
  if (b === "CPU" || (!b && o?.device?.deviceClass === "cpu")) return null;
  if (b === "Metal" || (!b && o?.device?.deviceClass === "metal")) return "MTL";
  if (b === "Vulkan" || (!b && o?.device?.deviceClass === "other")) return "Vulkan";
  // ggml-cuda registers ROCm (HIP) devices under the same "CUDA" names (GGML_CUDA_NAME "ROCm" only in builds that rename).
  return b === "ROCm" || (!b && o?.device?.deviceClass === "rocm") ? "ROCm" : "CUDA";
}

/**
 * src/llama-model.cpp load_tensors: n_gpu_layers = params.n_gpu_layers ≥ 0 ? it : n_layer + 1 (llama_model::n_gpu_layers);
 * i_gpu_start = max(n_layer + 1 − ngl, 0); act_gpu_layers = min(ngl, n_layer + 1); slot il (the output layer is slot
 * n_layer) is on the host when il < i_gpu_start, else on GPU upper_bound(splits, (il − i_gpu_start) / act_gpu_layers).
 * So -ngl N puts the output layer and the last N − 1 repeating layers on the GPUs. splits: --tensor-split, else each
 * device's free memory, normalized cumulatively. --split-mode none keeps only the main GPU (src/llama.cpp
 * llama_model_load_from_file_impl); row places layers on the main GPU and splits their matrices (make_gpu_buft_list).
 */
export function placeLayers(nLayer: number, shape: DeploymentShape): LlamaPlacement {
  const o = shape.options ?? {};
  const mode = o.splitMode ?? "layer";
  const prefix = backendPrefix(shape);
  let n = prefix === null ? 0 : mode === "none" ? 1 : (o.gpus?.length ?? o.tensorSplit?.length ?? 1);
  if (o.tensorSplit && mode !== "none" && o.gpus && o.tensorSplit.length !== o.gpus.length) throw new InputError(`--tensor-split has ${o.tensorSplit.length} values for ${o.gpus.length} GPUs`);
  if (prefix === null) n = 0;
  const gpus = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  const raw = mode === "none" || n <= 1 ? [1] : (o.tensorSplit ?? o.gpus?.map((g) => g.memoryBytes) ?? gpus.map(() => 1));
  if (raw.some((x) => !(x >= 0)) || raw.every((x) => x === 0)) throw new InputError("--tensor-split needs non-negative proportions, not all zero");
  const total = raw.reduce((a, b) => a + b, 0);
  let acc = 0;
  const splits = raw.map((x) => (acc += x) / total);
  const ngl = o.gpuLayers ?? nLayer + 1;
  if (!Number.isInteger(ngl) || ngl < 0) throw new InputError(`--gpu-layers must be a whole number ≥ 0, got ${ngl}`);
  const act = n === 0 ? 0 : Math.min(ngl, nLayer + 1);
  const start = Math.max(nLayer + 1 - ngl, 0);
  const slot: number[] = [];
  for (let il = 0; il <= nLayer; il++) {
    if (n === 0 || il < start || il - start >= act) slot.push(HOST);
    else if (mode === "layer") slot.push(upperBound(splits, (il - start) / act));
    else slot.push(0);
  }
  return { gpus, slot, gpuLayers: act, splitMode: mode, splits };
}

function upperBound(a: number[], v: number): number {
  let i = 0;
  while (i < a.length && a[i] <= v) i++;
  return Math.min(i, a.length - 1);
}

/** The input layer's tensors: always on the host (load_tensors: "keep the input layer on the CPU"). */
const INPUT_TENSOR = /^(token_embd|token_types|position_embd|per_layer_token_embd)/;

export interface LlamaOffloadTable {
  placement: LlamaPlacement;
  /** Weights per device index (GPU i at i, the host at gpus.length), split mode row included. */
  model: number[];
  /** Per device index: whether it runs repeating layers and holds the output layer (its compute stages). */
  roles: { runs: boolean; output: boolean }[];
  /** The GPU backend runs the host layers' weight ops of a large batch (CUDA, ROCm, Vulkan op offload). */
  opOffload: boolean;
  /** Bytes llama.cpp loads twice: a tied output matrix duplicated on the output layer's GPU (TENSOR_DUPLICATED). */
  duplicatedOutput: number;
}

/**
 * Weights per device: each repeating layer's tensors where its slot is; token_embd on the host; output and
 * output_norm where slot n_layer is. A model without output.weight reuses token_embd (llama-model.cpp
 * load_tensors: create_tensor(TOKEN_EMBD, …, TENSOR_DUPLICATED)), a second copy when the output layer is on a GPU.
 * --split-mode row: a GPU layer's matrices go to the split buffer type by --tensor-split, the rest to the main GPU.
 */
export function compileOffload(model: ModelSpec, shape: DeploymentShape): LlamaOffloadTable {
  const nLayer = model.layers.length;
  const p = placeLayers(nLayer, shape);
  const host = p.gpus.length;
  const w = weightBytes(model, shape.weights);
  const out = new Array<number>(host + 1).fill(0);
  const at = (s: number) => (s === HOST ? host : s);
  const rowShares = p.splits.map((s, i) => s - (i ? p.splits[i - 1] : 0));
  const place = (s: number, t: TensorSpec, layer: number) => {
    const b = w.bytesOf(t, layer);
    if (p.splitMode === "row" && s !== HOST && t.shape.length >= 2) rowShares.forEach((f, i) => (out[i] += b * f));
    else out[at(s)] += b;
  };
  model.layers.forEach((l, i) => {
    for (const t of l.tensors) place(p.slot[i], t, l.index);
  });
  let embd = 0;
  let hasOutput = false;
  for (const t of model.globals) {
    if (INPUT_TENSOR.test(t.name)) {
      embd += w.bytesOf(t, -1);
      out[host] += w.bytesOf(t, -1);
    } else {
      if (/^output(\.weight)?$/.test(t.name)) hasOutput = true;
      out[at(p.slot[nLayer])] += w.bytesOf(t, -1);
    }
  }
  const duplicatedOutput = !hasOutput && p.slot[nLayer] !== HOST ? embd : 0;
  out[at(p.slot[nLayer])] += duplicatedOutput;
  const roles = out.map(() => ({ runs: false, output: false }));
  const dev = (s: number) => (s === HOST ? host : p.splitMode === "row" ? 0 : s);
  for (let il = 0; il < nLayer; il++) roles[dev(p.slot[il])].runs = true;
  roles[dev(p.slot[nLayer])].output = true;
  // ggml-backend.cpp ggml_backend_sched_backend_id_from_cur: an op whose weight sits in a host buffer runs on the
  // first backend whose offload_op accepts it; CUDA and Vulkan accept any op of at least 32 tokens
  // (ggml_backend_cuda_device_offload_op, ggml_backend_vk_device_offload_op: op_offload_min_batch_size), so the
  // reserve graph (n_ubatch tokens) computes the host layers' weight ops on GPU 0. Metal offloads matmuls only: not modelled.
  const prefix = p.gpus[0]?.replace(/\d+$/, "");
  const opOffload = (prefix === "CUDA" || prefix === "ROCm" || prefix === "Vulkan") && roles[host].runs;
  if (opOffload) roles[0].runs = true;
  return { placement: p, model: out.map(Math.round), roles, opOffload, duplicatedOutput: Math.round(duplicatedOutput) };
}

/**
 * A device's compute buffer: the peak of the stages it runs, plus the token inputs on the host. With op offload the
 * host keeps, of its layers, only the ops without weights next to it: the residual and the norm, two hidden states
 * f32 [n_embd, n_ubatch] (derived from the Qwen2.5-3B Vulkan log, Vulkan_Host compute 12.01 MiB; one case).
 */
function computeOf(st: ReturnType<typeof computeStages>, role: { runs: boolean; output: boolean }, isHost: boolean, opOffload: boolean): number {
  if (isHost && opOffload) return st.cpuInputs + 2 * st.hidden + (role.output ? st.out : 0);
  return Math.max(role.output ? st.out : 0, role.runs ? Math.max(st.ffn, st.attn) : 0) + (isHost ? st.cpuInputs : 0);
}

/** Every backend's compute buffer summed (the plan's activations). */
export function computeTotal(m: LlamaModel, t: LlamaOffloadTable, shape: DeploymentShape, context: number, seqs: number): number {
  const st = computeStages(m, shape, context, seqs);
  let sum = 0;
  t.roles.forEach((r, i) => (sum += computeOf(st, r, i === t.placement.gpus.length, t.opOffload)));
  return sum;
}

/**
 * The buffers of every device at one context. KV and recurrent state per layer on its layer's device
 * (llama-kv-cache.cpp llama_kv_cache: dev = model.dev_layer(il) when offload; llama-memory-recurrent.cpp the same),
 * on the host with --no-kv-offload. Compute per backend (ggml_backend_sched: one gallocr per backend): the peak of the
 * stages it runs (compute.ts computeStages); the host adds the token inputs (the input layer runs there). The output
 * (logits) buffer is host memory (llama_context::output_reserve: "CUDA_Host output buffer"). The projector (tools/mtmd
 * clip.cpp: the GPU backend when ctx_params.use_gpu, i.e. not --no-mmproj-offload) and a draft model go to the first GPU
 * (a draft inherits the target's device list, common/speculative.cpp common_base_params_to_speculative; placed whole on
 * the first GPU here, a simplification).
 */
export function buffersAt(m: LlamaModel, c: LlamaCacheTable, t: LlamaOffloadTable, shape: DeploymentShape, context: number, seqs: number): DeviceBuffers[] {
  const p = t.placement;
  const o = shape.options ?? {};
  const host = p.gpus.length;
  const nLayer = m.layers.length;
  const rows: DeviceBuffers[] = [...p.gpus, "CPU"].map((device, i) => ({
    device,
    modelBytes: t.model[i],
    ...(i === host ? { mapped: o.mmap ?? true } : {}),
    kvBytes: 0,
    computeBytes: 0,
    outputBytes: 0,
    projectorBytes: 0,
    draftBytes: 0,
    layers: 0,
    output: false,
  }));
  const at = (s: number) => (s === HOST ? host : p.splitMode === "row" ? 0 : s);
  const kv = cachePerLayer(c, cachesAt(c, context, seqs));
  for (let il = 0; il < nLayer; il++) {
    const d = at(p.slot[il]);
    rows[d].layers++;
    rows[o.noKvOffload ? host : d].kvBytes += kv[il];
  }
  rows[at(p.slot[nLayer])].output = true;
  const st = computeStages(m, shape, context, seqs);
  rows.forEach((r, i) => {
    r.computeBytes = computeOf(st, t.roles[i], i === host, t.opOffload);
    r.kvBytes = Math.round(r.kvBytes);
  });
  rows[host].outputBytes = 4 * m.nVocab * seqs;
  const first = host > 0 ? 0 : host;
  if (o.projector) rows[o.projector.offload ? first : host].projectorBytes = o.projector.bytes;
  if (o.draft) rows[first].draftBytes = o.draft.weightsBytes + o.draft.kvBytes + o.draft.computeBytes;
  // A GPU that holds nothing gets no buffers and no row (llama.cpp prints none for it).
  return rows.filter((r, i) => i === host || r.layers > 0 || r.output || r.projectorBytes || r.draftBytes || r.modelBytes);
}

/** Total of every buffer of a row. */
export const rowTotal = (r: DeviceBuffers): number => r.modelBytes + r.kvBytes + r.computeBytes + r.outputBytes + r.projectorBytes + r.draftBytes;

/**
 * The speed model's segments of a placement (lib/calc/throughput.ts speedOfSegments): host layers on the host's
 * figures, each GPU's layers on its own, the output layer where slot n_layer is. Not modelled: llama.cpp streams a
 * host layer's weights to the GPU for large prompt batches (ggml-backend.cpp op offload, CUDA from 32 tokens), so
 * a partly offloaded prompt is predicted at host speed for its host layers (a lower bound).
 */
export function offloadSegments(nLayer: number, shape: DeploymentShape, gpus: DeviceCaps[], host: DeviceCaps): SpeedSegment[] {
  const p = placeLayers(nLayer, shape);
  const segs: SpeedSegment[] = [];
  const capsOf = (s: number) => (s === HOST ? host : gpus[Math.min(p.splitMode === "row" ? 0 : s, gpus.length - 1)]);
  for (let il = 0; il < nLayer; il++) {
    const last = segs[segs.length - 1];
    const s = p.slot[il];
    if (last && (last as SpeedSegment & { slot: number }).slot === s) last.to = il + 1;
    else segs.push(Object.assign({ device: capsOf(s), from: il, to: il + 1, output: false }, { slot: s }));
  }
  const out = p.slot[nLayer];
  const last = segs[segs.length - 1];
  if (last && (last as SpeedSegment & { slot: number }).slot === out) last.output = true;
  else segs.push({ device: capsOf(out), from: nLayer, to: nLayer, output: true });
  return segs.map(({ device, from, to, output }) => ({ device, from, to, output }));
}
