// Throughput: prefill and decode tokens/s of a model on a device, or on several devices that each run a segment of
// its layers (pipeline stages, GPU layers + host layers). The engine says what its kernels reach on each device
// (EngineSpeed.kernels, plugins/engine-<name>/speed.ts); lib/calc/speed/ adds up the terms. compileSpeed() reads
// the model once; speedOf() and speedOfSegments() are arithmetic. Measured runs calibrate per engine × device.
import type { DeploymentShape, EngineModel, Kernels } from "./engine.js";
import { assertEngine } from "./plan.js";
import type { DeviceCaps } from "./speed/device.js";
import { decodeSeconds, prefillSeconds } from "./speed/model.js";
import { compileShapeTable, weightsRead } from "./speed/table.js";
import type { SpeedShapeTable } from "./speed/table.js";
import type { Deployment, ModelSpec } from "./types.js";

export type { DeviceCaps, DeviceCompute, KernelFamily, MemoryClass } from "./speed/device.js";
export { memoryClassOf, missingSpec } from "./speed/device.js";

export interface SpeedRequest {
  /** Prompt tokens (llama-bench pp512 = prompt 512, gen 0). */
  prompt: number;
  /** Generated tokens (tg128 = prompt 0, gen 128). */
  gen: number;
  seqs: number;
  /** Tokens already in the cache before the prompt (llama-bench `@d4096`), default 0. */
  depth?: number;
}

export interface SpeedResult {
  prefillTokensPerSecond: number | null;
  decodeTokensPerSecond: number | null;
  calibrated: boolean;
  basis: string[];
  /** Why a figure is not predicted: the device figure it needs, and why that is absent. */
  missing?: string;
}

/** A model under one engine and deployment shape, read once for the speed model. */
export interface SpeedTable extends SpeedShapeTable {
  engine: EngineModel;
}

export function compileSpeed(model: ModelSpec, shape: DeploymentShape, engine: EngineModel): SpeedTable {
  assertEngine(shape, engine);
  return { ...compileShapeTable(model, shape), engine };
}

/** Measured speed over predicted, per engine × device (calibrate()); multiplies the predictions. */
export interface SpeedCalibration {
  decode: number;
  prefill: number;
  basis: string;
  calibrated: true;
  runs: number;
}

/**
 * One segment of a model on one device: layers [from, to), whether the output head (and the embedding rows) are
 * read there, and how many copies of the device split it in tensor parallel. A model split over devices (pipeline
 * stages, llama.cpp GPU layers + host layers) is a list of segments covering every layer once.
 */
export interface SpeedSegment {
  device: DeviceCaps;
  from: number;
  to: number;
  output: boolean;
  /** Tensor-parallel copies of the device on this segment (default 1). */
  tp?: number;
}

/** Seconds one segment spends on a decode step and on the prompt, or why it cannot be predicted. */
export interface SegmentSeconds {
  decode: number | null;
  prefill: number | null;
  kernels: Kernels | null;
  missing?: string;
}

/** Mean context of a decode over `gen` tokens from `prompt + depth` cached: llama-bench tgN from depth d is d + N/2. */
const meanContext = (req: SpeedRequest) => (req.depth ?? 0) + req.prompt + Math.max(req.gen, 1) / 2;
const wantsDecode = (req: SpeedRequest) => req.gen > 0 || req.prompt === 0;

/**
 * Seconds of one segment: a decode step of `req.seqs` sequences at the mean context, and the prompt (one sequence's
 * prompt of `req.prompt` tokens after `req.depth`). The per-segment building block of speed with offload: sum the
 * segments' seconds for one token or one prompt (stages run one after another; transfers between devices are not
 * modelled: a layer boundary passes one hidden vector per token).
 */
export function segmentSeconds(t: SpeedTable, seg: SpeedSegment, req: SpeedRequest): SegmentSeconds {
  const k = t.engine.speed.kernels(seg.device, t.shape);
  if ("missing" in k) return { decode: null, prefill: null, kernels: null, missing: k.missing };
  const r = { from: seg.from, to: seg.to, output: seg.output };
  const tp = seg.tp ?? 1;
  const decode = wantsDecode(req) ? decodeSeconds(t, r, seg.device, k, meanContext(req), Math.max(1, req.seqs), tp).seconds / k.decodeScale : null;
  const prefill = req.prompt > 0 ? prefillSeconds(t, r, seg.device, k, req.prompt, req.depth ?? 0, tp).seconds / k.prefillScale : null;
  return { decode, prefill, kernels: k };
}

/** Prefill and decode of a model whose layers are split into segments on several devices (summed per token). */
export function speedOfSegments(t: SpeedTable, segments: SpeedSegment[], req: SpeedRequest, cal?: SpeedCalibration): SpeedResult {
  let decode = 0;
  let prefill = 0;
  const used: Array<{ seg: SpeedSegment; k: Kernels }> = [];
  for (const seg of segments) {
    const s = segmentSeconds(t, seg, req);
    if (s.missing !== undefined) return { prefillTokensPerSecond: null, decodeTokensPerSecond: null, calibrated: false, basis: [`${t.engine.id}: ${s.missing}`], missing: s.missing };
    decode += s.decode ?? 0;
    prefill += s.prefill ?? 0;
    used.push({ seg, k: s.kernels! });
  }
  const seqs = Math.max(1, req.seqs);
  return new Speed(req.prompt > 0 ? (req.prompt / prefill) * (cal?.prefill ?? 1) : null, wantsDecode(req) ? (seqs / decode) * (cal?.decode ?? 1) : null, t, used, req, cal);
}

/** A prediction whose basis is written out only when read (speedOf runs in tight loops: dispatch, solvers, the bench). */
class Speed implements SpeedResult {
  readonly calibrated: boolean;
  constructor(
    readonly prefillTokensPerSecond: number | null,
    readonly decodeTokensPerSecond: number | null,
    private readonly t: SpeedTable,
    private readonly used: Array<{ seg: SpeedSegment; k: Kernels }>,
    private readonly req: SpeedRequest,
    private readonly cal: SpeedCalibration | undefined,
  ) {
    this.calibrated = cal !== undefined;
  }

  get basis(): string[] {
    const out = this.cal ? [this.cal.basis] : [];
    for (const { seg, k } of this.used) {
      const where = this.used.length > 1 ? `layers ${seg.from}–${seg.to - 1}${seg.output ? " + output" : ""}: ` : "";
      for (const b of [...(seg.device.compute?.notes ?? []), ...k.basis]) out.push(where + b);
    }
    const seqs = Math.max(1, this.req.seqs);
    if (wantsDecode(this.req)) out.push(`decode: ${(weightsRead(this.t, { from: 0, to: this.t.nLayers, output: true }, seqs, seqs).bytes / 1e9).toFixed(3)} GB of weights read per step (${seqs} seq), mean context ${meanContext(this.req)} tokens`);
    return out;
  }

  toJSON(): SpeedResult {
    return { prefillTokensPerSecond: this.prefillTokensPerSecond, decodeTokensPerSecond: this.decodeTokensPerSecond, calibrated: this.calibrated, basis: this.basis };
  }
}

/** Prefill and decode on `tp` copies of one device (the deployment's tensor parallel; pipeline stages on copies of it). */
export function speedOf(t: SpeedTable, device: DeviceCaps, req: SpeedRequest, cal?: SpeedCalibration): SpeedResult {
  return speedOfSegments(t, [{ device, from: 0, to: t.nLayers, output: true, tp: t.shape.tp }], req, cal);
}

export function speed(model: ModelSpec, dep: Deployment, engine: EngineModel, device: DeviceCaps, req: SpeedRequest, cal?: SpeedCalibration): SpeedResult {
  return speedOf(compileSpeed(model, dep, engine), device, req, cal);
}

/** Weight bytes one decode step reads for `seqs` sequences (routed experts: E·(1 − (1 − k/E)^seqs) touched). */
export function decodeWeightBytes(model: ModelSpec, weights: string, seqs: number): number {
  const t = compileShapeTable(model, { weights, kvDtypeK: "f16", kvDtypeV: "f16" } as DeploymentShape);
  return weightsRead(t, { from: 0, to: t.nLayers, output: true }, seqs, seqs).bytes;
}

/** The decode bandwidth an engine's kernels reach on a device (bytes/s), for placement's per-stage estimates; 0 when unknown. */
export function decodeBandwidth(engine: EngineModel, device: DeviceCaps, shape: DeploymentShape): number {
  const k = engine.speed.kernels(device, shape);
  return "missing" in k ? 0 : device.bandwidthBytesPerSecond * k.bandwidthFraction;
}

export interface MeasuredRun {
  model: ModelSpec;
  dep: Deployment;
  device: DeviceCaps;
  /** The catalog id of the device (calibration is per engine × device). */
  deviceId: string;
  req: SpeedRequest;
  prefillTokensPerSecond?: number;
  decodeTokensPerSecond?: number;
}

/**
 * Calibration of one engine on one device from measured runs: measured / predicted per figure, their geometric
 * mean (the correction that removes the bias of several runs, and reproduces a single run exactly).
 */
export function calibrate(runs: MeasuredRun[], engine: EngineModel, deviceId: string): SpeedCalibration {
  const ratios = { decode: [] as number[], prefill: [] as number[] };
  for (const r of runs) {
    if (r.dep.engine !== engine.id || r.deviceId !== deviceId) continue;
    const p = speed(r.model, r.dep, engine, r.device, r.req);
    if (r.decodeTokensPerSecond && p.decodeTokensPerSecond) ratios.decode.push(r.decodeTokensPerSecond / p.decodeTokensPerSecond);
    if (r.prefillTokensPerSecond && p.prefillTokensPerSecond) ratios.prefill.push(r.prefillTokensPerSecond / p.prefillTokensPerSecond);
  }
  const gmean = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length) : 1);
  return {
    decode: gmean(ratios.decode),
    prefill: gmean(ratios.prefill),
    basis: `calibrated from ${ratios.decode.length} decode and ${ratios.prefill.length} prefill measurement(s) of ${engine.id} on ${deviceId}`,
    calibrated: true,
    runs: Math.max(ratios.decode.length, ratios.prefill.length),
  };
}
