// Error summaries of evidence rows, per engine × figure × route: the held-out set on its own (what accuracy is
// judged on), the derived set beside it. Pure; the held-out test and the /evidence page both use it.
import type { EvidenceRow } from "./predict.js";

export interface ErrorSummary {
  engine: string;
  quantity: string;
  from: string;
  set: EvidenceRow["set"];
  /** Predicted figures and the cases they come from. */
  figures: number;
  cases: number;
  meanAbsPct: number;
  medianAbsPct: number;
  maxAbsPct: number;
  /** Signed mean: below 0 the figures are under-predicted on average. */
  meanPct: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One summary per engine × quantity × route × set, over rows with a prediction. */
export function errorSummaries(rows: EvidenceRow[]): ErrorSummary[] {
  const groups = new Map<string, EvidenceRow[]>();
  for (const r of rows) {
    if (r.errorPct === null || r.from === null) continue;
    const key = [r.engine, r.quantity, r.from, r.set].join("|");
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  const out: ErrorSummary[] = [];
  for (const [key, rs] of groups) {
    const [engine, quantity, from, set] = key.split("|");
    const abs = rs.map((r) => Math.abs(r.errorPct!));
    out.push({
      engine, quantity, from, set: set as EvidenceRow["set"],
      figures: rs.length,
      cases: new Set(rs.map((r) => r.case)).size,
      meanAbsPct: abs.reduce((a, b) => a + b, 0) / abs.length,
      medianAbsPct: median(abs),
      maxAbsPct: Math.max(...abs),
      meanPct: rs.reduce((a, r) => a + r.errorPct!, 0) / rs.length,
    });
  }
  return out.sort((a, b) => a.engine.localeCompare(b.engine) || a.quantity.localeCompare(b.quantity) || a.from.localeCompare(b.from) || a.set.localeCompare(b.set));
}

/** The held-out summaries only. */
export function heldOutSummary(rows: EvidenceRow[]): ErrorSummary[] {
  return errorSummaries(rows).filter((s) => s.set === "held-out");
}

export interface SpeedSummary {
  engine: string;
  quantity: "prefillTps" | "decodeTps";
  /** Benchmark class of the device: NVIDIA consumer, NVIDIA datacenter, AMD, Apple, Intel. */
  deviceClass: string;
  set: EvidenceRow["set"];
  figures: number;
  devices: number;
  medianAbsPct: number;
  meanPct: number;
  maxAbsPct: number;
}

/** Speed error per engine × figure × device class × set, over held rows with a prediction (what the goals are stated in). */
export function speedSummaries(rows: EvidenceRow[]): SpeedSummary[] {
  const groups = new Map<string, EvidenceRow[]>();
  for (const r of rows) {
    if (r.errorPct === null || !r.held || !r.deviceClass || (r.quantity !== "prefillTps" && r.quantity !== "decodeTps")) continue;
    const key = [r.engine, r.quantity, r.deviceClass, r.set].join("|");
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  return [...groups].map(([key, rs]) => {
    const [engine, quantity, deviceClass, set] = key.split("|");
    const abs = rs.map((r) => Math.abs(r.errorPct!));
    return {
      engine, quantity: quantity as SpeedSummary["quantity"], deviceClass, set: set as EvidenceRow["set"],
      figures: rs.length,
      devices: new Set(rs.map((r) => r.device)).size,
      medianAbsPct: median(abs),
      meanPct: rs.reduce((a, r) => a + r.errorPct!, 0) / rs.length,
      maxAbsPct: Math.max(...abs),
    };
  }).sort((a, b) => a.engine.localeCompare(b.engine) || a.quantity.localeCompare(b.quantity) || a.deviceClass.localeCompare(b.deviceClass) || a.set.localeCompare(b.set));
}
