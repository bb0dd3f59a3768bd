// dispatch_1000_ms: dispatch over 1,000 candidates; split_16_ms: a split over 16 unlike devices.
import { makeDeployment, modelFromHfConfig } from "../lib/calc/index.js";
import { placementDevice } from "../lib/fleet/caps.js";
import { catalogDevices } from "../lib/fleet/devices.js";
import { dispatch } from "../lib/fleet/dispatch.js";
import type { DispatchCandidate } from "../lib/fleet/dispatch.js";
import { planSplit } from "../lib/fleet/split.js";
import { catalogConfig, findCatalogEntry } from "../loaders/catalog.js";
import { ENGINES, engine } from "../plugins/engines.js";
import type { BenchFigure } from "./run.js";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function run(): BenchFigure[] {
  const entry = findCatalogEntry("meta-llama/Llama-3.1-70B-Instruct")!;
  const model = modelFromHfConfig(catalogConfig(entry), entry.id);
  const devices = catalogDevices().filter((d) => d.bandwidthBytesPerSecond).map(placementDevice);
  const cands: DispatchCandidate[] = Array.from({ length: 1000 }, (_, i) => ({
    id: `c${i}`,
    source: "offer",
    device: devices[i % devices.length],
    count: 1 + (i % 8),
    perHour: 0.2 + (i % 37) * 0.3,
  }));
  const base = makeDeployment(model, { engine: engine("vllm"), weights: "bf16", context: 8192, seqs: 4 });
  const job = { context: 8192, seqs: 4, tokens: 1_000_000 };
  dispatch(model, base, job, cands, ENGINES);
  const dTimes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    dispatch(model, base, job, cands, ENGINES);
    dTimes.push(performance.now() - t);
  }
  const gpus = devices.filter((d) => d.deviceClass === "cuda" || d.deviceClass === "rocm");
  const sixteen = Array.from({ length: 16 }, (_, i) => ({ ...gpus[i % gpus.length], id: `d${i}` }));
  const sdep = makeDeployment(model, { engine: engine("llama.cpp"), weights: "bf16", context: 8192 });
  planSplit(model, sdep, sixteen, ENGINES);
  const sTimes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    planSplit(model, sdep, sixteen, ENGINES);
    sTimes.push(performance.now() - t);
  }
  return [
    { name: "dispatch_1000_ms", value: Number(median(dTimes).toFixed(2)), unit: "ms (median of 10; Llama 3.1 70B, 1,000 candidates)" },
    { name: "split_16_ms", value: Number(median(sTimes).toFixed(2)), unit: "ms (median of 10; Llama 3.1 70B bf16 over 16 unlike GPUs)" },
  ];
}
