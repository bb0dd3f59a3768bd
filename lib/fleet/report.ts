// A model's capacity report: architecture, parameters, memory per quantization × context, and the longest
// context each device fits. The CLI's `report` prints it; the published /reports pages show the same figures.
import { makeDeployment, maxContext, nativeWeights, plan } from "../calc/index.js";
import type { EngineId, ModelSpec } from "../calc/index.js";
import { usableBytes } from "./dispatch.js";

export interface ReportDevice {
  id: string;
  name: string;
  memoryBytes: number;
}

export interface CapacityReport {
  model: string;
  family: string;
  modelType: string;
  layers: Record<string, number>;
  params: { total: number; active: number; embedding: number };
  engine: EngineId;
  contexts: number[];
  memory: Array<{ weights: string; totalBytes: Array<number | null> }>;
  fits: Array<{ device: string; name: string; maxContext: number }>;
}

export function capacityReport(model: ModelSpec, devices: ReportDevice[], engine: EngineId, schemes: string[]): CapacityReport {
  const contexts = [4096, 32768, 131072, model.maxContext].filter((c, i, a) => c <= model.maxContext && a.indexOf(c) === i).sort((a, b) => a - b);
  const native = nativeWeights(model);
  const base = makeDeployment(model, { engine, context: contexts[0] });
  const layers: Record<string, number> = {};
  for (const l of model.layers) layers[l.kind] = (layers[l.kind] ?? 0) + 1;
  const memory = [...new Set([native, ...schemes])].map((weights) => ({
    weights,
    totalBytes: contexts.map((context) => {
      try {
        return plan(model, makeDeployment(model, { engine, weights, context }), { layers: false }).memory.totalBytes;
      } catch {
        return null; // a scheme this engine cannot load
      }
    }),
  }));
  const fits = devices.map((d) => ({ device: d.id, name: d.name, maxContext: maxContext(model, base, usableBytes(d.memoryBytes, base)) }));
  return { model: model.id, family: model.family, modelType: model.modelType, layers, params: plan(model, base, { layers: false }).params, engine, contexts, memory, fits };
}
