// What placement (dispatch, split, reports) needs of an engine. Engines are plugins (plugins/engine-*/); lib/fleet
// never imports them: the CLI and the pages hand in the engines a placement may use.
import type { Deployment, DeploymentShape, DeviceCaps, DeviceClass, EngineModel, ModelSpec, SpeedSegment } from "../calc/index.js";

export interface PipelineStage {
  /** Catalog id of the device. */
  device: string;
  /** Layers of this stage (0: none). */
  layers: number;
}

export interface PlacementEngine extends EngineModel {
  /** Memory of a device this engine may use for the plan (vLLM: gpu_memory_utilization of it). */
  usableBytes(memoryBytes: number, dep: DeploymentShape): number;
  /** Device classes this engine runs on by default (dispatch picks it for them). */
  defaultFor: readonly DeviceClass[];
  /** Weights only this engine loads (GGUF files: llama.cpp); dispatch then picks it on every device. */
  ownsWeights?(weights: string): boolean;
  /** The order the engine runs pipeline stages over the devices the user lists. */
  pipelineOrder<D>(devices: D[]): D[];
  /** Where the input embedding lives in a split: on the first stage, or in the main host's RAM (with why). */
  embedding: { home: "first-stage" } | { home: "host"; basis: string };
  /**
   * Partial offload (llama.cpp -ngl): the most layer slots whose buffers fit a GPU of `memoryBytes` at the
   * deployment's context (null when none do), and the speed model's segments of that placement.
   */
  offload?: {
    fit(model: ModelSpec, dep: Deployment, memoryBytes: number): { gpuLayers: number; layerSlots: number; gpuBytes: number; hostBytes: number } | null;
    segments(nLayer: number, dep: DeploymentShape, gpu: DeviceCaps, host: DeviceCaps): SpeedSegment[];
  };
  /** Launch commands for a layer split over several hosts, keyed in the split plan's `commands` by `key`. */
  pipelineCommands?: {
    key: string;
    build(model: ModelSpec, dep: DeploymentShape & { context: number; seqs: number }, devices: string[], stages: PipelineStage[], opts: { rpcPort?: number; modelPath?: string }): string[];
  };
}

/** The engine of a deployment among those handed in. */
export function engineOf<E extends PlacementEngine>(engines: readonly E[], id: string): E {
  const e = engines.find((x) => x.id === id);
  if (!e) throw new Error(`engine ${id} was not handed in (have: ${engines.map((x) => x.id).join(", ")})`);
  return e;
}

/** The engine a device class runs by default: weights only one engine loads go to it; else the class's engine. */
export function defaultEngineFor<E extends PlacementEngine>(engines: readonly E[], deviceClass: DeviceClass, weights: string): E {
  const owner = engines.find((e) => e.ownsWeights?.(weights));
  if (owner) return owner;
  const e = engines.find((x) => x.defaultFor.includes(deviceClass));
  if (!e) throw new Error(`no engine runs on ${deviceClass} devices (have: ${engines.map((x) => x.id).join(", ")})`);
  return e;
}
