// Data loader: predictions vs real engine figures, from the cases the engine tests check
// (test/fixtures/evidence/*.json). Accepts an array of {source, model, settings, reported, predicted?} or
// {cases: [...]} whose cases carry `config` and a verbatim `log`. Missing predictions are computed with lib/calc
// (the functions the CLI uses); a case that cannot be read becomes a row with a note, never a failed build.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { makeDeployment, modelFromHfConfig, plan } from "../../lib/calc/index.js";
import type { ModelSpec } from "../../lib/calc/index.js";
import { resolveModel } from "../../loaders/models.js";
import { parseEngine } from "../../plugins/engines.js";

const DIR = fileURLToPath(new URL("../../test/fixtures/evidence/", import.meta.url));

type Case = Record<string, any>;

/** Figures printed in engine logs. mlx_lm prints mx.get_peak_memory()/1e9 ("Peak memory: X GB", "peak_memory=X"). */
function reportedFromLog(log: string): Record<string, number> {
  const out: Record<string, number> = {};
  const peak = log.match(/Peak memory:\s*([\d.]+)\s*GB/i) ?? log.match(/peak_memory=([\d.]+)/);
  if (peak) out.peakBytes = Math.round(Number(peak[1]) * 1e9);
  return out;
}

/** Maps a reported figure name to the plan field it is compared with. */
function fromPlan(p: ReturnType<typeof plan>, key: string): number | undefined {
  const m = p.memory as Record<string, number>;
  if (key in m) return m[key];
  if (key === "peakBytes") return m.totalBytes;
  if (key === "kvBytesPerToken" || key === "bytesPerToken") return p.kv.bytesPerToken;
  return undefined;
}

async function modelOf(c: Case): Promise<ModelSpec> {
  if (c.config && typeof c.config === "object") return modelFromHfConfig(c.config, c.model ?? c.configSource ?? c.id);
  return (await resolveModel(String(c.model))).model;
}

function settingsOf(c: Case, engineFromFile: string): Record<string, unknown> {
  if (c.settings) return c.settings;
  const context = (c.promptTokens ?? 0) + (c.generationTokens ?? c.newTokens ?? 0) || c.context;
  return { engine: c.engine ?? engineFromFile, weights: c.weights, kvDtype: c.kvDtype, context, ...(c.seqs ? { seqs: c.seqs } : {}) };
}

/** transformers cases quote torch's max_memory_allocated in GiB (printedGiB). */
function reportedOf(c: Case): Record<string, number> {
  if (c.reported) return c.reported;
  if (typeof c.printedGiB === "number") return { peakBytes: Math.round(c.printedGiB * 2 ** 30) };
  return typeof c.log === "string" ? reportedFromLog(c.log) : {};
}

const rows: unknown[] = [];
const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith(".json")).sort() : [];
for (const f of files) {
  let cases: Case[] = [];
  try {
    const doc = JSON.parse(readFileSync(DIR + f, "utf8"));
    cases = Array.isArray(doc) ? doc : Array.isArray(doc.cases) ? doc.cases : [];
  } catch (e) {
    rows.push({ file: f, source: f, model: "", settings: {}, figure: "", reported: null, predicted: null, errorPct: null, note: `unreadable: ${(e as Error).message}` });
    continue;
  }
  for (const c of cases) {
    const reported = reportedOf(c);
    const settings = settingsOf(c, f.replace(/\.json$/, ""));
    let predicted: Record<string, number> = c.predicted ?? {};
    let note = c.predicted ? "prediction recorded by the engine test" : "";
    if (!c.predicted) {
      try {
        const model = await modelOf(c);
        const e = parseEngine(String((settings as { engine?: unknown }).engine ?? ""));
        const p = plan(model, makeDeployment(model, { ...settings, engine: e } as never), e);
        for (const k of Object.keys(reported)) {
          const v = fromPlan(p, k);
          if (v !== undefined) predicted[k] = v;
        }
        note = "computed by the site loader with lib/calc (engine defaults)";
      } catch (e) {
        note = `no prediction: ${(e as Error).message}`;
      }
    }
    for (const [figure, rep] of Object.entries(reported)) {
      if (typeof rep !== "number") continue;
      const pred = predicted[figure];
      rows.push({
        file: f,
        id: c.id ?? null,
        source: String(c.source ?? f),
        model: String(c.model ?? c.configSource ?? c.id ?? ""),
        settings,
        figure,
        reported: rep,
        predicted: typeof pred === "number" ? pred : null,
        errorPct: typeof pred === "number" && rep !== 0 ? ((pred - rep) / rep) * 100 : null,
        note,
      });
    }
  }
}
process.stdout.write(JSON.stringify(rows));
