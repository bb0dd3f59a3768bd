// Data loader: predictions vs real engine figures, from the cases the engine tests check
// (test/fixtures/evidence/*.json: [{source, model, settings, reported, predicted?}]). Missing predictions
// are computed here with lib/calc, the same functions the CLI uses.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { plan, makeDeployment } from "../../lib/calc/index.js";
import { resolveModel } from "../../loaders/models.js";

const DIR = fileURLToPath(new URL("../../test/fixtures/evidence/", import.meta.url));

interface Case {
  source: string;
  model: string;
  settings: Record<string, unknown>;
  reported: Record<string, number>;
  predicted?: Record<string, number>;
}

/** Figure names the plan can answer: its memory fields and KV bytes per token. */
function fromPlan(p: ReturnType<typeof plan>, key: string): number | undefined {
  const m = p.memory as Record<string, number>;
  if (key in m) return m[key];
  if (key === "kvBytesPerToken" || key === "bytesPerToken") return p.kv.bytesPerToken;
  return undefined;
}

const rows: unknown[] = [];
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith(".json")).sort() : [];
for (const f of files) {
  const cases = JSON.parse(readFileSync(DIR + f, "utf8")) as Case[];
  for (const c of Array.isArray(cases) ? cases : [cases]) {
    let predicted = c.predicted ?? {};
    let note = c.predicted ? "prediction recorded by the engine test" : "";
    if (!c.predicted) {
      try {
        const { model } = await resolveModel(c.model);
        const p = plan(model, makeDeployment(model, c.settings as never));
        predicted = Object.fromEntries(Object.keys(c.reported).flatMap((k) => {
          const v = fromPlan(p, k);
          return v === undefined ? [] : [[k, v]];
        }));
        note = "prediction computed by this page's loader with lib/calc";
      } catch (e) {
        note = `no prediction: ${(e as Error).message}`;
      }
    }
    for (const [figure, reported] of Object.entries(c.reported)) {
      if (typeof reported !== "number") continue;
      const pred = predicted[figure];
      rows.push({
        file: f,
        source: c.source,
        model: c.model,
        settings: c.settings,
        figure,
        reported,
        predicted: typeof pred === "number" ? pred : null,
        errorPct: typeof pred === "number" && reported !== 0 ? ((pred - reported) / reported) * 100 : null,
        note,
      });
    }
  }
}
process.stdout.write(JSON.stringify(rows));
