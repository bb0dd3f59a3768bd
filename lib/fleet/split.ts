// Heterogeneous split planner: contiguous layer ranges over unlike devices (pipeline / llama.cpp layer split),
// chosen so every device fits and the slowest stage is as fast as possible.
// The engine (handed in) says its pipeline order, where the embedding lives and the commands that launch the split.
import { InputError, compilePlan, decodeBandwidth, planTotals, weightScheme } from "../calc/index.js";
import type { Deployment, EngineTable, ModelSpec } from "../calc/index.js";
import type { PlacementDevice } from "./dispatch.js";
import { engineOf } from "./engine.js";
import type { PlacementEngine } from "./engine.js";

export interface SplitAssignment {
  device: string;
  name: string;
  /** First and last layer (inclusive); -1/-1 when the device gets no layer. */
  layerStart: number;
  layerEnd: number;
  layers: number;
  /** Holds the output head (norm + lm_head). */
  output: boolean;
  weightsBytes: number;
  kvBytes: number;
  /** Compute buffers and runtime overhead reserved on the device. */
  reservedBytes: number;
  memoryBytes: number;
  capacityBytes: number;
  /** Seconds this stage spends on one decode token. */
  stageSeconds: number;
}

export interface SplitPlan {
  engine: string;
  assignments: SplitAssignment[];
  /** Single-stream decode: stages run one after another for each token. */
  tokensPerSecond: number;
  /** With at least as many sequences in flight as stages, the slowest stage bounds throughput. */
  pipelineTokensPerSecond: number;
  /** Bytes that stay in host RAM of the main host (llama.cpp keeps token_embd on the CPU). */
  hostBytes: number;
  /** Set when the devices could not hold the model and the first layers stay in the host's RAM (--host). */
  offload?: { host: string; hostLayers: number; gpuLayers: number };
  /** Launch commands per engine that can run the split (llamaCpp, vllm), keyed in alphabetical order. */
  commands: Record<string, string[]>;
  basis: string[];
}

interface LayerCost {
  weights: number;
  kv: number;
  /** weights + kv: what the layer occupies. */
  bytes: number;
  /** Bytes one decode token reads. */
  readBytes: number;
}

/** Per-layer memory (weights + KV) and bytes one decode token reads (routed experts scaled by top-k / experts). */
function layerCosts(model: ModelSpec, dep: Deployment, kv: EngineTable): { layers: LayerCost[]; outputBytes: number; embeddingBytes: number } {
  const bytesOf = weightScheme(dep.weights).bytesFor(model);
  const kvPerLayer = kv.kvPerLayer(dep.context, dep.seqs);
  const layers = model.layers.map((l, i) => {
    let w = 0;
    let read = 0;
    for (const t of l.tensors) {
      const b = bytesOf(t, l.index);
      w += b;
      read += t.role === "expert" && l.moe ? (b * l.moe.activeExperts) / l.moe.experts : b;
    }
    const kv = kvPerLayer[i];
    return { weights: w, kv, bytes: w + kv, readBytes: read + kv / dep.seqs };
  });
  let outputBytes = 0;
  let embeddingBytes = 0;
  for (const t of model.globals) {
    const b = bytesOf(t, -1);
    if (t.role === "embedding") embeddingBytes += b;
    else outputBytes += b;
  }
  // Tied embeddings: the output head reuses token_embd; llama.cpp duplicates it onto the output device.
  if (model.tiedEmbeddings) outputBytes += embeddingBytes;
  return { layers, outputBytes, embeddingBytes };
}

export interface SplitOptions {
  /** Bytes kept free on every device for compute buffers and runtime; default: the engine's activation + overhead estimate. */
  reserveBytes?: number;
  rpcPort?: number;
  modelPath?: string;
  /** A host whose RAM may take the first layers when the devices cannot hold the model (engines that keep the input layer in host RAM: llama.cpp -ngl). */
  host?: PlacementDevice;
}

/**
 * Devices are given in the user's order and run in the engine's pipeline order (llama.cpp: RPC devices first, the
 * main host last). `engines` are those the caller hands in: the deployment's plans the split, and every one with
 * pipeline commands contributes its launch commands.
 */
export function planSplit(model: ModelSpec, dep: Deployment, userDevices: PlacementDevice[], engines: readonly PlacementEngine[], opts: SplitOptions = {}): SplitPlan {
  if (userDevices.length === 0) throw new InputError("split needs at least one device");
  const engine = engineOf(engines, dep.engine);
  const ordered = engine.pipelineOrder(userDevices);
  try {
    return planStages(model, dep, engine, ordered, userDevices, engines, opts);
  } catch (e) {
    if (!(e instanceof InputError) || !opts.host || engine.embedding.home !== "host") throw e;
  }
  // Offloaded: llama.cpp's host layers are the first ones (load_tensors: layers below i_gpu_start stay on the CPU),
  // so the host is the first stage; a host of unknown RAM size is not limited.
  const host = { ...opts.host, memoryBytes: opts.host.memoryBytes || Number.MAX_SAFE_INTEGER };
  const p = planStages(model, dep, engine, [host, ...ordered], userDevices, engines, opts);
  const hostLayers = p.assignments[0].layers;
  p.assignments[0].capacityBytes = opts.host.memoryBytes;
  // Only the engine that offloads can run this split.
  const key = engine.pipelineCommands?.key;
  const commands = key && p.commands[key] ? { [key]: p.commands[key] } : {};
  return { ...p, commands, offload: { host: opts.host.id, hostLayers, gpuLayers: model.layers.length + 1 - hostLayers }, basis: [...p.basis, `offloaded: layers 0–${hostLayers - 1} in ${opts.host.id}'s RAM (the devices cannot hold the model), the rest and the output on the devices`] };
}

function planStages(model: ModelSpec, dep: Deployment, engine: PlacementEngine, devices: PlacementDevice[], userDevices: PlacementDevice[], engines: readonly PlacementEngine[], opts: SplitOptions): SplitPlan {
  const d1 = { ...dep, tp: 1, pp: 1 };
  const t = compilePlan(model, d1, engine);
  const p = planTotals(t, d1.context, d1.seqs);
  const reserve = opts.reserveBytes ?? p.activationBytes + p.overheadBytes;
  const { layers, outputBytes, embeddingBytes } = layerCosts(model, d1, t.kv);
  // vLLM keeps the embedding on the first stage; llama.cpp keeps the input layer in host RAM.
  const onHost = engine.embedding.home === "host";
  const firstExtra = onHost ? 0 : embeddingBytes;
  const n = layers.length;
  const speedOf = (d: PlacementDevice) => decodeBandwidth(engine, d, d1);
  // What the engine may use of each device (vLLM: gpu_memory_utilization of what the runtime reports), as in dispatch.
  const usable = (d: PlacementDevice) => engine.usableBytes(d.memoryBytes, d1);

  /** Greedy for a stage-time bound T: each device in order takes as many layers as fit in memory and in T. */
  const assign = (T: number): number[] | undefined => {
    const counts: number[] = [];
    let next = 0;
    for (let k = 0; k < devices.length; k++) {
      const d = devices[k];
      const last = k === devices.length - 1;
      const bw = speedOf(d);
      let mem = reserve + (k === 0 ? firstExtra : 0);
      let time = 0;
      let c = 0;
      while (next + c < n) {
        const l = layers[next + c];
        const m2 = mem + l.bytes;
        const t2 = time + l.readBytes / bw;
        if (m2 > usable(d) || t2 > T) break;
        mem = m2;
        time = t2;
        c++;
      }
      if (last) {
        // The output head lives on the last device: it must fit beside its layers (drop layers until it does).
        while (c > 0 && (mem + outputBytes > usable(d) || time + outputBytes / bw > T)) {
          c--;
          mem -= layers[next + c].bytes;
          time -= layers[next + c].readBytes / bw;
        }
        if (mem + outputBytes > usable(d) || time + outputBytes / bw > T) return undefined;
      }
      counts.push(c);
      next += c;
    }
    return next === n ? counts : undefined;
  };

  const totalNeed = layers.reduce((a, l) => a + l.bytes, 0) + outputBytes + firstExtra + reserve * devices.length;
  const totalHave = devices.reduce((a, d) => a + usable(d), 0);
  const hi0 = layers.reduce((a, l) => a + l.readBytes, 0) / Math.min(...devices.map(speedOf)) + outputBytes / Math.min(...devices.map(speedOf)) + 1;
  let hi = hi0;
  if (!assign(hi)) {
    throw new InputError(
      `${model.id} does not fit on ${userDevices.length > 8 ? `${userDevices.length} devices` : userDevices.map((d) => d.id).join(", ")}: needs ${(totalNeed / 1024 ** 3).toFixed(2)} GiB with ${(reserve / 1024 ** 3).toFixed(2)} GiB reserved per device, ${engine.label} may use ${(totalHave / 1024 ** 3).toFixed(2)} GiB of them`,
    );
  }
  let lo = 0;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (assign(mid)) hi = mid;
    else lo = mid;
  }
  const counts = assign(hi)!;

  const assignments: SplitAssignment[] = [];
  let start = 0;
  devices.forEach((d, k) => {
    const c = counts[k];
    const last = k === devices.length - 1;
    let w = 0;
    let kv = 0;
    let read = 0;
    for (let i = start; i < start + c; i++) {
      w += layers[i].weights;
      kv += layers[i].kv;
      read += layers[i].readBytes;
    }
    const extra = (k === 0 ? firstExtra : 0) + (last ? outputBytes : 0);
    read += last ? outputBytes : 0;
    assignments.push({
      device: d.id,
      name: d.name,
      layerStart: c ? start : -1,
      layerEnd: c ? start + c - 1 : -1,
      layers: c,
      output: last,
      weightsBytes: Math.round(w + extra),
      kvBytes: Math.round(kv),
      reservedBytes: Math.round(reserve),
      memoryBytes: Math.round(w + kv + extra + reserve),
      capacityBytes: Math.round(usable(d)),
      stageSeconds: read / speedOf(d),
    });
    start += c;
  });
  const sum = assignments.reduce((s, a) => s + a.stageSeconds, 0);
  const max = Math.max(...assignments.map((a) => a.stageSeconds));
  return {
    engine: dep.engine,
    assignments,
    tokensPerSecond: 1 / sum,
    pipelineTokensPerSecond: 1 / max,
    hostBytes: onHost ? Math.round(embeddingBytes) : 0,
    commands: commandsFor(model, dep, engines, userDevices, assignments.filter((a) => a.device !== opts.host?.id), opts, n + 1 - (devices.length > userDevices.length ? counts[0] : 0)),
    basis: [
      `per-layer weights (${dep.weights}) + ${dep.engine} KV for ${dep.context} tokens × ${dep.seqs} seq; ${(reserve / 1024 ** 2).toFixed(0)} MiB reserved per device (engine activation + overhead estimate)`,
      "stage time = bytes read per token / the bandwidth the engine's decode kernels reach on the device (lib/calc decodeBandwidth); network transfer between stages not modelled",
      ...(engine.embedding.home === "host" ? [engine.embedding.basis] : []),
    ],
  };
}

/** Each engine's launch commands for the split (keys in alphabetical order). */
function commandsFor(model: ModelSpec, dep: Deployment, engines: readonly PlacementEngine[], userDevices: PlacementDevice[], assignments: SplitAssignment[], opts: SplitOptions, gpuLayers: number): SplitPlan["commands"] {
  const stages = assignments.map((a) => ({ device: a.device, layers: a.layers }));
  dep = { ...dep, options: { ...dep.options, gpuLayers } };
  const devices = userDevices.map((d) => d.id);
  const withCommands = engines.filter((e) => e.pipelineCommands).sort((a, b) => (a.pipelineCommands!.key < b.pipelineCommands!.key ? -1 : 1));
  return Object.fromEntries(withCommands.map((e) => [e.pipelineCommands!.key, e.pipelineCommands!.build(model, dep, devices, stages, opts)]));
}

export interface Migration {
  layerStart: number;
  layerEnd: number;
  from: string;
  to: string;
}

/** Which layer ranges move where when the plan changes (e.g. a device leaves). */
export function migration(before: SplitPlan, after: SplitPlan): Migration[] {
  const owner = (p: SplitPlan) => {
    const m: string[] = [];
    for (const a of p.assignments) for (let i = a.layerStart; a.layers > 0 && i <= a.layerEnd; i++) m[i] = a.device;
    return m;
  };
  const a = owner(before);
  const b = owner(after);
  const moves: Migration[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const last = moves[moves.length - 1];
    if (last && last.layerEnd === i - 1 && last.from === a[i] && last.to === b[i]) last.layerEnd = i;
    else moves.push({ layerStart: i, layerEnd: i, from: a[i], to: b[i] });
  }
  return moves;
}
