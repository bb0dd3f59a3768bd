// Dispatch planner: ranks fleet devices, catalog devices and cloud offers for one job by fit, duration and cost.
// Each candidate is planned with its engine (handed in by the caller): one compiled plan and speed table per engine
// and tensor-parallel width, shared by every candidate that uses them.
import { InputError, compilePlan, compileSpeed, deviceCapacity, perRankTotal, speedOf, speedOfSegments } from "../calc/index.js";
import type { Deployment, DeviceCaps, DeviceCapacity, EngineId, ModelSpec, PlanTable, SpeedTable } from "../calc/index.js";
import { jobCost } from "./cost.js";
import { engineOf } from "./engine.js";
import type { PlacementEngine } from "./engine.js";

const GIB = 1024 ** 3;

export interface PlacementDevice extends DeviceCaps {
  id: string;
  name: string;
  /** The name the driver reports (vLLM's defaults test it), when known. */
  driverName?: string;
  /** Memory as the runtime reports it (catalog devices: lib/fleet/devices.ts engineMemoryBytes). */
  memoryBytes: number;
}

export interface DispatchCandidate {
  /** Stable id of the device or offer. */
  id: string;
  source: "fleet" | "catalog" | "offer";
  device: PlacementDevice;
  /** GPUs used together (tensor parallel). */
  count: number;
  /** Price per hour for all `count` devices; undefined when unknown. */
  perHour?: number;
  priceBasis?: string;
  provider?: string;
  /** Engine to plan this candidate with; default: the base deployment's. */
  engine?: EngineId;
}

export interface DispatchJob {
  context: number;
  seqs: number;
  /** Tokens to generate in total, across sequences. */
  tokens: number;
  /** Prompt tokens per sequence (prefill), default 0. */
  prompt?: number;
  maxLatencySeconds?: number;
  budget?: number;
  /** The host whose RAM takes the layers a GPU cannot hold: with it, engines that offload (llama.cpp -ngl) offer offloaded candidates. */
  host?: PlacementDevice;
}

export interface RankedCandidate {
  id: string;
  source: DispatchCandidate["source"];
  device: string;
  name: string;
  count: number;
  provider?: string;
  engine: EngineId;
  fit: { perDeviceBytes: number; capacityBytes: number; headroomBytes: number };
  /** The engine's answer on one of the devices (lib/calc deviceCapacity, as `hwledger fit --device`). */
  capacity: Pick<DeviceCapacity, "kvCapacityTokens" | "maxContext" | "maxSeqs" | "maxConcurrency">;
  seconds: number;
  cost: number | null;
  decodeTokensPerSecond: number;
  /** Part of the model in host RAM (slower, on a smaller GPU): the engine's GPU layer slots and the host's bytes. */
  offload?: { gpuLayers: number; layerSlots: number; hostBytes: number; host: string };
  basis: string[];
}

export interface Rejected {
  id: string;
  source: DispatchCandidate["source"];
  device: string;
  count: number;
  reason: string;
}


/** Tensor parallel needs the attention heads divisible by the rank count (vLLM's check); use the largest that is. */
export function usableTp(model: ModelSpec, count: number): number {
  for (let tp = count; tp > 1; tp--) if (model.nHeads % tp === 0) return tp;
  return 1;
}

export function dispatch(model: ModelSpec, base: Deployment, job: DispatchJob, candidates: DispatchCandidate[], engines: readonly PlacementEngine[]): { candidates: RankedCandidate[]; rejected: Rejected[] } {
  const ranked: RankedCandidate[] = [];
  const rejected: Rejected[] = [];
  const dep: Deployment = { ...base, context: job.context, seqs: job.seqs, pp: 1 };
  const tables = new Map<string, { plan: PlanTable; speed: SpeedTable }>();
  for (const c of candidates) {
    const tp = usableTp(model, c.count);
    const engine = c.engine ?? dep.engine;
    const d = { ...dep, tp, engine };
    const e = engineOf(engines, engine);
    const reject = (reason: string) => rejected.push({ id: c.id, source: c.source, device: c.device.id, count: c.count, reason });
    if (!(c.device.bandwidthBytesPerSecond > 0)) {
      reject("no bandwidth figure for this device: speed cannot be estimated");
      continue;
    }
    const key = `${engine}|${tp}`;
    let t = tables.get(key);
    if (!t) tables.set(key, (t = { plan: compilePlan(model, d, e), speed: compileSpeed(model, d, e) }));
    let need = perRankTotal(t.plan, d.context, d.seqs);
    // Whether the job fits is the engine's own start-up accounting on this device, the answer of `hwledger fit`.
    let cap: DeviceCapacity;
    try {
      cap = deviceCapacity(model, d, e, { id: c.device.id, name: c.device.driverName ?? c.device.name, deviceClass: c.device.deviceClass, memoryBytes: c.device.memoryBytes });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      reject(err.message);
      continue;
    }
    const capacity = e.usableBytes(c.device.memoryBytes, d);
    const prompt = job.prompt ?? 0;
    // Decode at the mean position of a sequence growing from the prompt to the context.
    const decodeReq = { prompt: 0, gen: Math.max(2, prompt + job.context), seqs: job.seqs };
    let offload: RankedCandidate["offload"];
    let segments;
    if (!cap.fits) {
      // An engine that offloads layers to host RAM, one GPU, and a host: the most layers that fit, the rest on the host.
      const o = !cap.reason && e.offload && job.host && tp === 1 ? e.offload.fit(model, d, capacity) : null;
      if (!o) {
        const short = need > capacity ? `by ${((need - capacity) / GIB).toFixed(2)} GiB per device (${(need / GIB).toFixed(2)} GiB needed, ${(capacity / GIB).toFixed(2)} GiB usable${tp > 1 ? `, tp ${tp}` : ""})` : "";
        reject(cap.reason ?? `does not fit${short ? ` ${short}` : `: ${e.label} holds ${cap.kvCapacityTokens} KV tokens per device (${cap.maxSeqs} sequence(s) of ${d.context} tokens, max context ${cap.maxContext}); the job needs ${d.seqs} × ${d.context}`}`);
        continue;
      }
      offload = { gpuLayers: o.gpuLayers, layerSlots: o.layerSlots, hostBytes: o.hostBytes, host: job.host!.id };
      segments = e.offload!.segments(model.layers.length, { ...d, options: { ...d.options, gpuLayers: o.gpuLayers } }, c.device, job.host!);
      need = o.gpuBytes;
    }
    const s = segments ? speedOfSegments(t.speed, segments, decodeReq) : speedOf(t.speed, c.device, decodeReq);
    if (s.missing !== undefined) {
      reject(`no ${engine} speed estimate: ${s.missing}`);
      continue;
    }
    const decode = s.decodeTokensPerSecond ?? 0;
    const preReq = { prompt, gen: 0, seqs: 1 };
    const pre = prompt > 0 ? (segments ? speedOfSegments(t.speed, segments, preReq) : speedOf(t.speed, c.device, preReq)).prefillTokensPerSecond : null;
    const seconds = (decode > 0 ? job.tokens / decode : Number.POSITIVE_INFINITY) + (pre ? (prompt * job.seqs) / pre : 0);
    const cost = c.perHour !== undefined ? jobCost(c.perHour, seconds) : null;
    if (job.maxLatencySeconds !== undefined && seconds > job.maxLatencySeconds) {
      reject(`too slow: ${seconds.toFixed(1)} s estimated > max latency ${job.maxLatencySeconds} s`);
      continue;
    }
    if (job.budget !== undefined && cost !== null && cost > job.budget) {
      reject(`over budget: ${cost.toFixed(4)} estimated > budget ${job.budget}`);
      continue;
    }
    ranked.push({
      id: offload ? `${c.id} (offload ${offload.gpuLayers}/${offload.layerSlots} layers)` : c.id,
      source: c.source,
      device: c.device.id,
      name: c.device.name,
      count: c.count,
      ...(c.provider ? { provider: c.provider } : {}),
      engine,
      fit: { perDeviceBytes: Math.round(need), capacityBytes: Math.round(capacity), headroomBytes: Math.round(capacity - need) },
      capacity: { kvCapacityTokens: cap.kvCapacityTokens, maxContext: cap.maxContext, maxSeqs: cap.maxSeqs, maxConcurrency: cap.maxConcurrency },
      seconds,
      cost,
      decodeTokensPerSecond: decode,
      ...(offload ? { offload } : {}),
      basis: [...(offload ? [`offload: ${offload.gpuLayers} of ${offload.layerSlots} layer slots on the GPU (the engine's fit), the rest in ${offload.host}'s RAM`] : []), ...s.basis, ...(c.priceBasis ? [`price: ${c.priceBasis}`] : ["price: unknown"])],
    });
  }
  // Cheapest first (unknown price after priced ones), then fastest.
  ranked.sort((a, b) => (a.cost ?? Number.POSITIVE_INFINITY) - (b.cost ?? Number.POSITIVE_INFINITY) || a.seconds - b.seconds);
  return { candidates: ranked, rejected };
}
