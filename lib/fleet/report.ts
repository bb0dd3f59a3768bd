// A model's capacity report: architecture, parameters, memory per quantization × context, and the longest
// context each device fits. The CLI's `report` prints it; the published /reports pages show the same figures.
import { compilePlan, makeDeployment, maxContextOf, nativeWeights, planTotals } from "../calc/index.js";
import type { EngineId, ModelSpec } from "../calc/index.js";
import type { PlacementEngine } from "./engine.js";

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

export function capacityReport(model: ModelSpec, devices: ReportDevice[], engine: PlacementEngine, schemes: string[]): CapacityReport {
  const contexts = [4096, 32768, 131072, model.maxContext].filter((c, i, a) => c <= model.maxContext && a.indexOf(c) === i).sort((a, b) => a - b);
  const native = nativeWeights(model);
  const base = makeDeployment(model, { engine, context: contexts[0] });
  const baseTable = compilePlan(model, base, engine);
  const layers: Record<string, number> = {};
  for (const l of model.layers) layers[l.kind] = (layers[l.kind] ?? 0) + 1;
  const memory = [...new Set([native, ...schemes])].map((weights) => {
    let t: ReturnType<typeof compilePlan> | undefined;
    try {
      t = compilePlan(model, makeDeployment(model, { engine, weights, context: contexts[0] }), engine);
    } catch {
      // a scheme this engine cannot load
    }
    return { weights, totalBytes: contexts.map((context) => (t ? planTotals(t, context, 1).totalBytes : null)) };
  });
  const fits = devices.map((d) => ({ device: d.id, name: d.name, maxContext: maxContextOf(baseTable, base.seqs, engine.usableBytes(d.memoryBytes, base)) }));
  return { model: model.id, family: model.family, modelType: model.modelType, layers, params: baseTable.params.rounded, engine: engine.id as EngineId, contexts, memory, fits };
}
