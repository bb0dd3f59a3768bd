// vLLM --cpu-offload-gb as speed segments. The offloader (vllm/model_executor/offloader/uva.py UVAOffloader; before it
// models/utils.py maybe_offload_to_cpu, PR #6496) moves the parameters of the decoder layers make_layers builds, in
// build order, into pinned host memory until cpu_offload_gb GiB per GPU are there; the GPU then reads them over the host
// link (UVA zero-copy, or a copy per forward) every forward pass. So the first layers of each rank run at the link's
// bandwidth, the rest at the GPU's: two segments of lib/calc/throughput.ts speedOfSegments.
import type { DeploymentShape, DeviceCaps, ModelSpec, SpeedSegment } from "../../lib/calc/index.js";
import { vllmLayerBytesPerRank, vllmOffloadedPerRank } from "./weights.js";

/**
 * Segments of a single-stage vLLM deployment with --cpu-offload-gb: layers [0, k) whose parameters (all or in part)
 * are in host memory run with the link's bandwidth, [k, n) on the GPU. A layer only partly offloaded counts as
 * offloaded, and the KV of offloaded layers is charged at the link rate too (it stays in GPU memory): both make the
 * cost an upper bound.
 */
export function vllmOffloadSegments(model: ModelSpec, dep: DeploymentShape, gpu: DeviceCaps, linkBytesPerSecond: number): SpeedSegment[] {
  const n = model.layers.length;
  const tp = dep.tp;
  const offloaded = vllmOffloadedPerRank(model, { ...dep, pp: 1 })[0];
  if (!offloaded) return [{ device: gpu, from: 0, to: n, output: true, tp }];
  const layers = vllmLayerBytesPerRank(model, { ...dep, pp: 1 })[0];
  let k = 0;
  for (let sum = 0; k < n && sum < offloaded; k++) sum += layers[k];
  const link: DeviceCaps = { ...gpu, bandwidthBytesPerSecond: linkBytesPerSecond };
  return k >= n ? [{ device: link, from: 0, to: n, output: true, tp }] : [{ device: link, from: 0, to: k, output: false, tp }, { device: gpu, from: k, to: n, output: true, tp }];
}
