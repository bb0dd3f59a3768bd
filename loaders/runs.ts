// Recorded runs: job_planned joined with its outcome, so prediction and actual sit side by side; and the
// speed calibration those runs allow.
import { calibrate, makeDeployment } from "../lib/calc/index.js";
import type { DeviceClass, Efficiency, MeasuredRun } from "../lib/calc/index.js";
import { placementDevice } from "../lib/fleet/caps.js";
import { catalogDevices } from "../lib/fleet/devices.js";
import { deviceIdForGpuName } from "../lib/fleet/offers.js";
import { engine, parseEngine } from "../plugins/engines.js";
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
  const { queryLedger } = await import("../lib/ledger/index.js");
  const rows = await queryLedger(
    ledgerDir,
    `with planned as (select payload->>'jobId' as job, * from events where type = 'job_planned'),
          done as (select payload->>'jobId' as job, type, payload from events where type in ('job_completed', 'job_failed')),
          regs as (select device_id, payload->>'name' as name, try_cast(payload->>'memoryBytes' as double) as mem from events
                   where type = 'device_registered' and device_id is not null
                   qualify row_number() over (partition by device_id order by ts desc) = 1)
     select p.job, p.host, coalesce(p.device_id, p.payload->>'device') as device, p.payload as planned, p.ts,
            d.type as outcome, d.payload as result, r.name as device_name, r.mem as device_mem
     from planned p left join done d using (job) left join regs r on r.device_id = coalesce(p.device_id, p.payload->>'device')
     order by p.ts`,
  );
  const catalog = new Set(catalogDevices().map((d) => d.id));
  return rows.map((r) => {
    const planned = (r.planned ?? {}) as Record<string, any>;
    const result = (r.result ?? {}) as Record<string, any>;
    const device = r.device === null || r.device === undefined ? null : String(r.device);
    const catalogId = planned.deviceCatalogId ?? (device && catalog.has(device) ? device : r.device_name ? deviceIdForGpuName(String(r.device_name), Number(r.device_mem) / 1024 ** 3) : undefined) ?? null;
    return {
      jobId: String(r.job),
      host: String(r.host),
      device,
      catalogId,
      model: String(planned.model),
      modelRef: planned.modelRef ?? null,
      engine: String(planned.engine),
      status: r.outcome === "job_completed" ? "completed" : r.outcome === "job_failed" ? "failed" : "running",
      ts: String(r.ts),
      deployment: planned.deployment ?? {},
      request: planned.request ?? null,
      predicted: planned.plan?.memory ?? {},
      actual: result.actual ?? {},
      reason: result.reason ?? null,
    };
  });
}

/**
 * Refits speed efficiencies per engine × device class from completed runs that measured tokens/s on a device
 * the catalog knows. Runs whose model cannot be resolved offline are skipped.
 */
export async function calibrationFromLedger(ledgerDir: string): Promise<Map<string, Efficiency & { calibrated: true; runs: number }>> {
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
      req: { prompt: r.request?.prompt ?? 512, gen: r.request?.gen ?? 128, seqs: dep.seqs },
      ...(r.actual.promptTokensPerSecond ? { prefillTokensPerSecond: r.actual.promptTokensPerSecond } : {}),
      ...(r.actual.decodeTokensPerSecond ? { decodeTokensPerSecond: r.actual.decodeTokensPerSecond } : {}),
    });
  }
  const out = new Map<string, Efficiency & { calibrated: true; runs: number }>();
  const keys = new Set(measured.map((m) => `${m.dep.engine}|${m.device.deviceClass}`));
  for (const k of keys) {
    const [id, cls] = k.split("|") as [string, DeviceClass];
    out.set(k, calibrate(measured, engine(id), cls));
  }
  return out;
}
