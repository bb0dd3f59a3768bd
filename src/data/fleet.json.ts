// Data loader: the fleet as the ledger ($HWLEDGER_LEDGER, else the collector's default) records it — devices,
// health (last telemetry, last probe, probe failures), telemetry over time, and every recorded run's prediction
// next to its actuals. Predicted tokens/s use lib/calc's speed() (uncalibrated, as `hwledger speed
// --no-calibrate`). With no ledger it says so ({exists: false}) instead of failing the build.
import { existsSync } from "node:fs";
import { makeDeployment, speed } from "../../lib/calc/index.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { catalogDevices } from "../../lib/fleet/devices.js";
import { defaultLedgerDir, ledgerLabel, withLedgerLabel, field, isoTs, queryLedger, typeIs } from "../../lib/ledger/index.js";
import type { FieldName } from "../../lib/ledger/index.js";
import { fleetDevices } from "../../loaders/fleet.js";
import { resolveModel } from "../../loaders/models.js";
import { calibrationFromLedger, calibrationKey, recordedRuns } from "../../loaders/runs.js";
import { parseEngine } from "../../plugins/engines.js";

const ledger = defaultLedgerDir();
// The pages name the ledger by its label, never by this machine's path.
const out: Record<string, unknown> = { ledger: ledgerLabel(ledger), exists: existsSync(ledger), devices: [], telemetry: [], probes: [], failures: [], runs: [], calibration: [], error: null };
if (out.exists) {
  try {
    out.devices = await fleetDevices(ledger);
    const t = (name: FieldName<"telemetry_sample">) => field("telemetry_sample", name).sql;
    out.telemetry = await queryLedger(
      ledger,
      `select ${isoTs()} as ts, host, device_id as device, ${t("memoryUsedBytes")} as used, ${t("memoryTotalBytes")} as total,
         ${t("utilizationPct")} as util, ${t("powerW")} as power, ${t("temperatureC")} as temp
       from events where ${typeIs("telemetry_sample")} order by ts, host, device_id`,
    );
    out.probes = await queryLedger(
      ledger,
      `select host, ${isoTs("max(ts)")} as last_probe, count(*) as probes from events where ${typeIs("device_probed")} group by host order by host`,
    );
    const f = (name: FieldName<"probe_failed">) => field("probe_failed", name).sql;
    out.failures = await queryLedger(
      ledger,
      `select ${isoTs()} as ts, host, ${f("probe")} as probe, ${f("reason")} as reason, ${f("target")} as target, ${f("code")} as code
       from events where ${typeIs("probe_failed")} order by ts desc, host, id`,
    );
    const catalog = new Map(catalogDevices().map((d) => [d.id, d]));
    // Calibrations per engine × device from the measured runs (what `hwledger speed` uses when the ledger has runs).
    const calibration = await calibrationFromLedger(ledger);
    out.calibration = [...calibration].map(([key, c]) => {
      const [engine, device] = key.split("|");
      return { engine, device, runs: c.runs, decode: c.decode, prefill: c.prefill, basis: c.basis };
    });
    const runs = [];
    for (const r of await recordedRuns(ledger)) {
      let predictedSpeed: { prefill: number | null; decode: number | null; note: string } = { prefill: null, decode: null, note: "" };
      const cat = r.catalogId ? catalog.get(r.catalogId) : undefined;
      try {
        if (!cat?.bandwidthBytesPerSecond) throw new Error("device not in the catalog or no bandwidth figure");
        const model = (await resolveModel(r.modelRef ?? r.model, { offline: true })).model;
        const d = r.deployment as Record<string, any>;
        const e = parseEngine(r.engine);
        const dep = makeDeployment(model, { engine: e, weights: d.weights, kvDtype: d.kvDtypeK && d.kvDtypeV ? `${d.kvDtypeK},${d.kvDtypeV}` : undefined, context: d.context ?? 4096, seqs: d.seqs ?? 1, tp: d.tp ?? 1, pp: d.pp ?? 1 });
        const caps = placementDevice(cat);
        const req = { prompt: r.request?.prompt ?? 512, gen: r.request?.gen ?? 128, seqs: dep.seqs };
        const s = speed(model, dep, e, caps, req);
        const key = calibrationKey(dep.engine, cat.id);
        const cal = calibration.get(key);
        const c = cal ? speed(model, dep, e, caps, req, cal) : undefined;
        predictedSpeed = { prefill: s.prefillTokensPerSecond, decode: s.decodeTokensPerSecond, note: s.missing ? `no speed prediction: ${s.missing}` : "lib/calc speed(), uncalibrated" };
        if (c) Object.assign(predictedSpeed, { calibratedPrefill: c.prefillTokensPerSecond, calibratedDecode: c.decodeTokensPerSecond, calibrationKey: key });
      } catch (e) {
        predictedSpeed.note = `no speed prediction: ${(e as Error).message.split("\n")[0]}`;
      }
      runs.push({ ...r, predictedSpeed });
    }
    out.runs = runs;
  } catch (e) {
    out.error = withLedgerLabel((e as Error).message.split("\n")[0], ledger);
  }
}
process.stdout.write(JSON.stringify(out));
