// Shared by the vLLM evidence test and its regeneration: recompute hwledger's predictions for the cases in
// test/fixtures/evidence/vllm.json from the vLLM profile (kv-budget path and whole start-up accounting).
import { readFileSync } from "node:fs";
import { makeDeployment } from "../../lib/calc/index.js";
import type { Deployment, EngineOptions, ModelSpec } from "../../lib/calc/index.js";
import { vllmKvFromBudget, vllmStartup } from "../../plugins/engine-vllm/index.js";
import { resolveModel } from "../../loaders/models.js";
import { ROOT } from "../helpers/cli.js";
import { engine } from "../../plugins/engines.js";

export const GIB = 1024 ** 3;
export const EVIDENCE_PATH = ROOT + "test/fixtures/evidence/vllm.json";

export interface EvidenceCase {
  id: string;
  source: string;
  log: string;
  model: string;
  modelRef?: string;
  settings: {
    tp?: number; pp?: number; maxModelLen: number; gpuMemoryGiB?: number; gpuMemoryUtilization?: number; kvCacheDtype: string;
    maxNumBatchedTokens?: number; maxNumSeqs?: number; sampler?: "flashinfer" | "native"; enforceEager?: boolean; mxfp4Backend?: "marlin" | "triton";
    vllmVersion?: string;
  };
  reported: { weightsGiB?: number; availableKvGiB?: number; availableKvGiBPerStage?: number[]; kvCapacityTokens: number; maxConcurrency?: number; estimatedCudaGraphGiB?: number };
  predicted?: Prediction;
}

export interface Prediction {
  /** Flat figures named like `reported` (what the /evidence page compares): tokens and concurrency from the printed budget. */
  kvCapacityTokens: number;
  maxConcurrency: number;
  /** From the start-up replay, when the GPU is known. */
  availableKvGiB?: number;
  weightsGiB?: number;
  fromBudget: { kvCapacityTokens: number; maxConcurrency: number; tokensIfBudgetRoundedDown: number; tokensIfBudgetRoundedUp: number };
  fromGpu?: { weightsGiB: number; profilePeakGiB: number; nonTorchGiB: number; availableKvGiB: number; kvCapacityTokens: number; maxConcurrency: number; tokenErrorPct: number };
}

export function loadEvidence(): { about: string; cases: EvidenceCase[] } {
  return JSON.parse(readFileSync(EVIDENCE_PATH, "utf8"));
}

export async function caseModel(c: EvidenceCase): Promise<ModelSpec> {
  const ref = c.modelRef!.startsWith("test/") ? ROOT + c.modelRef : c.modelRef!;
  return (await resolveModel(ref, { offline: true })).model;
}

export function caseDeployment(model: ModelSpec, c: EvidenceCase): Deployment {
  const s = c.settings;
  const options: EngineOptions = {};
  if (s.maxNumBatchedTokens) options.maxNumBatchedTokens = s.maxNumBatchedTokens;
  if (s.maxNumSeqs) options.maxNumSeqs = s.maxNumSeqs;
  if (s.sampler) options.sampler = s.sampler;
  if (s.enforceEager) options.enforceEager = true;
  if (s.mxfp4Backend) options.mxfp4Backend = s.mxfp4Backend;
  // Only release numbers select version rules; free-text provenance ("V1, 2025-10") keeps the default.
  if (s.vllmVersion && /^\d+\.\d+/.test(s.vllmVersion)) options.vllmVersion = s.vllmVersion;
  // vLLM "auto" = the model dtype (bf16 for every case here): 2 bytes per element.
  const kvDtype = s.kvCacheDtype === "auto" ? "bf16" : s.kvCacheDtype;
  return makeDeployment(model, { engine: engine("vllm"), context: s.maxModelLen, tp: s.tp ?? 1, pp: s.pp ?? 1, kvDtype, options });
}

/** vLLM prints GiB with two decimals: the true budget lies within ±0.005 GiB of the printed one. */
export async function predict(c: EvidenceCase): Promise<Prediction> {
  const model = await caseModel(c);
  const dep = caseDeployment(model, c);
  const budgets = (c.reported.availableKvGiBPerStage ?? [c.reported.availableKvGiB!]).map((x) => x * GIB);
  const b = vllmKvFromBudget(model, dep, budgets);
  const lo = vllmKvFromBudget(model, dep, budgets.map((x) => x - 0.005 * GIB));
  const hi = vllmKvFromBudget(model, dep, budgets.map((x) => x + 0.005 * GIB));
  const out: Prediction = {
    kvCapacityTokens: b.kvCapacityTokens,
    maxConcurrency: round2(b.maxConcurrency),
    fromBudget: { kvCapacityTokens: b.kvCapacityTokens, maxConcurrency: round2(b.maxConcurrency), tokensIfBudgetRoundedDown: lo.kvCapacityTokens, tokensIfBudgetRoundedUp: hi.kvCapacityTokens },
  };
  const s = c.settings;
  if (s.gpuMemoryGiB && s.gpuMemoryUtilization) {
    // vLLM 0.21+ subtracts its measured CUDA graph estimate; the log prints it, hwledger has no model of it.
    const graph = c.reported.estimatedCudaGraphGiB;
    const st = vllmStartup(model, dep, s.gpuMemoryGiB * GIB, s.gpuMemoryUtilization, undefined, graph === undefined ? undefined : graph * GIB);
    const g = vllmKvFromBudget(model, dep, st.availableBytes);
    out.fromGpu = {
      weightsGiB: round3(st.weightsBytes[0] / GIB),
      profilePeakGiB: round3(st.peakBytes[st.peakBytes.length - 1] / GIB),
      nonTorchGiB: round3(st.nonTorchBytes / GIB),
      availableKvGiB: round3(Math.min(...st.availableBytes) / GIB),
      kvCapacityTokens: g.kvCapacityTokens,
      maxConcurrency: round2(g.maxConcurrency),
      tokenErrorPct: round2((g.kvCapacityTokens / c.reported.kvCapacityTokens - 1) * 100),
    };
    out.availableKvGiB = out.fromGpu.availableKvGiB;
    out.weightsGiB = out.fromGpu.weightsGiB;
  }
  return out;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
