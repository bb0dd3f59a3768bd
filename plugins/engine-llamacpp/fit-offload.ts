// llama.cpp's own fit (common/fit.cpp common_params_fit_impl, `--fit on`, the default of llama-server): the context
// and the GPU layers that leave each device's target of free memory, as a machine-readable plan.
import type { Deployment, DeviceBuffers, ModelSpec } from "../../lib/calc/index.js";
import { compileLlamaCache } from "./cache.js";
import { LLAMA_CELL_PAD } from "./context.js";
import { compileLlamaModel } from "./model.js";
import { buffersAt, compileOffload, rowTotal } from "./offload.js";

const MIB = 1024 * 1024;
/** common/common.h common_params: fit_params_target 1024 MiB per device (-fitt), fit_params_min_ctx 4096 (-fitc). */
export const FIT_TARGET_BYTES = 1024 * MIB;
export const FIT_MIN_CONTEXT = 4096;

export interface OffloadFitInput {
  /** Free memory of each GPU, in llama.cpp's device order. */
  freeBytes: number[];
  /** Free memory each GPU must keep (-fitt); default FIT_TARGET_BYTES each. */
  marginBytes?: number[];
  /** The context was given (-c): fit.cpp leaves it ("context size set by user -> no change"). */
  contextFixed: boolean;
  /** -fitc: the smallest context fit.cpp reduces to (per sequence here). */
  minContext?: number;
}

export interface OffloadFit {
  /** -ngl: layer slots on the GPUs (n_layer + 1 = everything, the output layer included). */
  gpuLayers: number;
  /** Repeating layers + output of the model, for reading gpuLayers. */
  layerSlots: number;
  /** Tokens per sequence. */
  context: number;
  /** -ts: layer slots per GPU (repeating layers + the output layer), when there are several. */
  tensorSplit?: number[];
  fits: boolean;
  devices: (DeviceBuffers & { freeBytes: number; marginBytes: number; usedBytes: number })[];
  host: DeviceBuffers;
  basis: string[];
}

/**
 * 1. With every layer on the GPUs, does each device keep its target free? Then nothing changes.
 * 2. Context not given: the largest context (a multiple of 256 per sequence, not above the trained context) for
 *    which every device keeps its target (fit.cpp interpolates linearly between the minimum and the trained context
 *    and rounds down to 256 × streams: the same point, since memory grows linearly in the context); below the
 *    minimum context it goes to the minimum and reduces layers.
 * 3. Layers, back to front (fit.cpp "filling dense layers back-to-front"): the last GPU takes the output layer and the
 *    most layers that keep its target, then the one before it, and so on; -ts is the layer count per GPU
 *    (set_ngl_tensor_split_tbo). fit.cpp's MoE step (expert tensors of a partly offloaded layer moved to host RAM,
 *    tensor_buft_overrides) is not modelled: whole layers only.
 */
export function fitOffload(model: ModelSpec, dep: Deployment, input: OffloadFitInput): OffloadFit {
  const m = compileLlamaModel(model);
  const nd = input.freeBytes.length;
  const margins = input.marginBytes ?? input.freeBytes.map(() => FIT_TARGET_BYTES);
  const slots = m.layers.length + 1;
  const basis = [
    "llama.cpp common/fit.cpp common_params_fit_impl: every GPU keeps its target free (common.h fit_params_target 1024 MiB, -fitt); the context (if not given) shrinks first, down to fit_params_min_ctx 4096 (-fitc), then GPU layers are filled back to front",
    "llama.cpp fit.cpp: whole layers only here (its MoE step moving expert tensors of a partial layer to host RAM is not modelled)",
  ];
  const evalAt = (ngl: number, split: number[] | undefined, context: number) => {
    const shape = { ...dep, options: { ...dep.options, gpuLayers: ngl, ...(split ? { tensorSplit: split, splitMode: "layer" as const } : {}) } };
    const off = compileOffload(model, shape);
    const rows = buffersAt(m, compileLlamaCache(m, shape), off, shape, context, dep.seqs);
    const gpu = (i: number) => rows.find((r) => r.device === off.placement.gpus[i]);
    const used = Array.from({ length: nd }, (_, i) => { const r = gpu(i); return r ? rowTotal(r) : 0; });
    return { rows, gpu, used, ok: used.every((u, i) => u <= input.freeBytes[i] - margins[i]) };
  };
  const result = (ngl: number, split: number[] | undefined, context: number): OffloadFit => {
    const e = evalAt(ngl, split, context);
    const host = e.rows.find((r) => r.device === "CPU")!;
    const devices = Array.from({ length: nd }, (_, i) => {
      const base = e.gpu(i) ?? { ...host, device: `GPU${i}`, modelBytes: 0, kvBytes: 0, computeBytes: 0, outputBytes: 0, projectorBytes: 0, draftBytes: 0, layers: 0, output: false, mapped: undefined };
      return { ...base, freeBytes: input.freeBytes[i], marginBytes: margins[i], usedBytes: e.used[i] };
    });
    // -ts as layer slots per GPU (what set_ngl_tensor_split_tbo writes), also when the default split by free memory held.
    const tensorSplit = devices.map((d) => d.layers + (d.output ? 1 : 0));
    return { gpuLayers: ngl, layerSlots: slots, context, ...(nd > 1 ? { tensorSplit } : {}), fits: e.ok, devices, host, basis };
  };
  const even = nd > 1 ? input.freeBytes : undefined;
  let context = dep.context;
  if (evalAt(slots, even, context).ok) return result(slots, even, context);
  const minContext = Math.min(input.minContext ?? FIT_MIN_CONTEXT, context);
  if (!input.contextFixed) {
    // Largest multiple of 256 in [minContext, context] that fits with every layer on the GPUs.
    let lo = Math.ceil(minContext / LLAMA_CELL_PAD);
    let hi = Math.floor(context / LLAMA_CELL_PAD);
    if (lo <= hi && evalAt(slots, even, lo * LLAMA_CELL_PAD).ok) {
      while (hi - lo > 0) {
        const mid = (lo + hi + 1) >> 1;
        if (evalAt(slots, even, mid * LLAMA_CELL_PAD).ok) lo = mid;
        else hi = mid - 1;
      }
      return result(slots, even, lo * LLAMA_CELL_PAD);
    }
    context = minContext;
  }
  // Back-to-front: device id gets the most slots that keep its target, given what later devices took.
  const perDevice = new Array<number>(nd).fill(0);
  for (let id = nd - 1; id >= 0; id--) {
    const unassigned = slots - perDevice.reduce((a, b) => a + b, 0);
    const test = (n: number) => {
      const split = perDevice.map((v, i) => (i === id ? n : v));
      const ngl = split.reduce((a, b) => a + b, 0);
      if (ngl === 0) return true;
      return evalAt(ngl, nd > 1 ? split : undefined, context).used[id] <= input.freeBytes[id] - margins[id];
    };
    let lo = 0;
    let hi = unassigned;
    while (hi > lo) {
      const mid = (lo + hi + 1) >> 1;
      if (test(mid)) lo = mid;
      else hi = mid - 1;
    }
    perDevice[id] = lo;
  }
  const ngl = perDevice.reduce((a, b) => a + b, 0);
  return result(ngl, nd > 1 && ngl > 0 ? perDevice : undefined, context);
}
