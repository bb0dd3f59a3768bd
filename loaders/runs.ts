// Recorded runs: job_planned joined with its outcome, so prediction and actual sit side by side; and the
// speed calibration those runs allow.
import { calibrate, makeDeployment } from "../lib/calc/index.js";
import type { MeasuredRun, SpeedCalibration } from "../lib/calc/index.js";
import { placementDevice } from "../lib/fleet/caps.js";
import { catalogDevices } from "../lib/fleet/devices.js";
import { deviceIdForGpuName } from "../lib/fleet/offers.js";
import { field, payloadOf, typeIs } from "../lib/ledger/fields.js";
import { engine, parseEngine } from "../plugins/engines.js";
import { LATEST_REGISTRATIONS } from "./fleet.js";
import { resolveModel } from "./models.js";

export interface RecordedRun {
  jobId: string;
  host: string;
  device: string | null;
  /** Catalog id of the device, when known. */
  catalogId: string | null;
  model: string;
  modelRef: string | null;
  engine: string;
  status: "completed" | "failed" | "running";
  ts: string;
  deployment: Record<string, unknown>;
  request: { prompt?: number; gen?: number } | null;
  predicted: { weightsBytes?: number; kvCacheBytes?: number; activationBytes?: number; totalBytes?: number };
  actual: { weightsBytes?: number; kvCacheBytes?: number; computeBytes?: number; promptTokensPerSecond?: number; decodeTokensPerSecond?: number };
  reason: string | null;
}

export async function recordedRuns(ledgerDir: string): Promise<RecordedRun[]> {
  const { queryLedger } = await import("../lib/ledger/query.js");
  const reg = { name: field("device_registered", "name").sql, mem: field("device_registered", "memoryBytes").sql };
  const rows = await queryLedger(
    ledgerDir,
    `with planned as (select ${field("job_planned", "jobId").sql} as job, * from events where ${typeIs("job_planned")}),
          done as (select ${field("job_completed", "jobId").sql} as job, type, payload from events where ${typeIs("job_completed", "job_failed")}),
          regs as (select device_id, ${reg.name} as name, ${reg.mem} as mem from ${LATEST_REGISTRATIONS})
     select p.job, p.host, p.device_id as device, p.payload as planned, p.ts,
            d.type as outcome, d.payload as result, r.name as device_name, r.mem as device_mem
     from planned p left join done d using (job) left join regs r on r.device_id = p.device_id
     order by p.ts`,
  );
  const catalog = new Set(catalogDevices().map((d) => d.id));
  const out: RecordedRun[] = [];
  for (const r of rows) {
    const planned = payloadOf("job_planned", r.planned);
    if (!planned) continue;
    const completed = r.outcome === "job_completed" ? payloadOf("job_completed", r.result) : null;
    const failed = r.outcome === "job_failed" ? payloadOf("job_failed", r.result) : null;
    const device = r.device === null || r.device === undefined ? null : String(r.device);
    const byName = r.device_name ? deviceIdForGpuName(String(r.device_name), Number(r.device_mem) / 1024 ** 3) : undefined;
    const catalogId = planned.deviceCatalogId ?? (device && catalog.has(device) ? device : byName) ?? null;
    out.push({
      jobId: planned.jobId,
      host: String(r.host),
      device,
      catalogId,
      model: planned.model,
      modelRef: planned.modelRef ?? null,
      engine: planned.engine,
      status: r.outcome === "job_completed" ? "completed" : r.outcome === "job_failed" ? "failed" : "running",
      ts: String(r.ts),
      deployment: planned.deployment ?? {},
      request: planned.request ?? null,
      // The plan is lib/calc's planJson(), kept as recorded.
      predicted: ((planned.plan as { memory?: RecordedRun["predicted"] }).memory ?? {}) as RecordedRun["predicted"],
      actual: (completed ?? failed)?.actual ?? {},
      reason: failed?.reason ?? null,
    });
  }
  return out;
}

/** The key calibrations are kept under: one engine on one catalog device. */
export const calibrationKey = (engine: string, deviceId: string) => `${engine}|${deviceId}`;

/**
 * Speed calibrations per engine × catalog device from completed runs that measured tokens/s there (measured over
 * predicted, geometric mean). Runs whose model cannot be resolved offline are skipped.
 */
export async function calibrationFromLedger(ledgerDir: string): Promise<Map<string, SpeedCalibration>> {
  const runs = (await recordedRuns(ledgerDir)).filter((r) => r.status === "completed" && r.catalogId && (r.actual.decodeTokensPerSecond || r.actual.promptTokensPerSecond));
  const devices = new Map(catalogDevices().map((d) => [d.id, placementDevice(d)]));
  const measured: MeasuredRun[] = [];
  for (const r of runs) {
    const device = devices.get(r.catalogId!);
    if (!device?.bandwidthBytesPerSecond) continue;
    let model;
    try {
      model = (await resolveModel(r.modelRef ?? r.model, { offline: true })).model;
    } catch {
      continue;
    }
    const d = r.deployment as Record<string, any>;
    const dep = makeDeployment(model, { engine: parseEngine(r.engine), weights: d.weights, kvDtype: d.kvDtypeK && d.kvDtypeV ? `${d.kvDtypeK},${d.kvDtypeV}` : undefined, context: d.context ?? 4096, seqs: d.seqs ?? 1 });
    measured.push({
      model,
      dep,
      device,
      deviceId: r.catalogId!,
      req: { prompt: r.request?.prompt ?? 512, gen: r.request?.gen ?? 128, seqs: dep.seqs },
      ...(r.actual.promptTokensPerSecond ? { prefillTokensPerSecond: r.actual.promptTokensPerSecond } : {}),
      ...(r.actual.decodeTokensPerSecond ? { decodeTokensPerSecond: r.actual.decodeTokensPerSecond } : {}),
    });
  }
  const out = new Map<string, SpeedCalibration>();
  for (const m of measured) {
    const k = calibrationKey(m.dep.engine, m.deviceId);
    if (!out.has(k)) out.set(k, calibrate(measured, engine(m.dep.engine), m.deviceId));
  }
  return out;
}
