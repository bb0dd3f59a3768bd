// Evidence in (Node): reads data/evidence (case files, verbatim logs, configs), validates every case with zod, reads
// each reported figure from its log and predicts it with loaders/evidence/predict.ts. The tests and the /evidence
// data loader both call evidenceRows(); nothing here writes a file.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ModelSpec } from "../../lib/calc/index.js";
import { ggufMetadataFromLog } from "../../plugins/engine-llamacpp/index.js";
import { resolveModel } from "../models.js";
import { predictCase, modelFromConfig, modelFromGgufMetadata } from "./predict.js";
import type { EvidenceRow } from "./predict.js";
import { LogReader } from "./read.js";
import type { ReadFigure } from "./read.js";
import { caseFileSchema } from "./schema.js";
import type { EvidenceCase, EvidenceFile } from "./schema.js";

export const EVIDENCE_DIR = fileURLToPath(new URL("../../data/evidence/", import.meta.url));

export interface Evidence {
  files: Record<string, EvidenceFile>;
  cases: EvidenceCase[];
}

/** Every case file under data/evidence/cases, validated; case ids are unique across files. */
export function loadEvidence(dir = EVIDENCE_DIR): Evidence {
  const files: Record<string, EvidenceFile> = {};
  const cases: EvidenceCase[] = [];
  const seen = new Set<string>();
  for (const name of readdirSync(dir + "cases").filter((f) => f.endsWith(".json")).sort()) {
    const r = caseFileSchema.safeParse(JSON.parse(readFileSync(dir + "cases/" + name, "utf8")));
    if (!r.success) {
      const i = r.error.issues[0];
      throw new Error(`data/evidence/cases/${name}: ${i.path.join(".")}: ${i.message}`);
    }
    for (const c of r.data.cases) {
      if (c.engine !== r.data.engine) throw new Error(`data/evidence/cases/${name}: case ${c.id} is ${c.engine}, the file is ${r.data.engine}`);
      if (seen.has(c.id)) throw new Error(`data/evidence/cases/${name}: case id ${c.id} is used twice`);
      seen.add(c.id);
      cases.push(c);
    }
    files[name] = r.data;
  }
  return { files, cases };
}

/** A verbatim log under data/evidence/logs/. */
export function evidenceLog(name: string, dir = EVIDENCE_DIR): string {
  const file = dir + "logs/" + name;
  if (!existsSync(file)) throw new Error(`no log data/evidence/logs/${name}`);
  return readFileSync(file, "utf8");
}

/** The verbatim log of a case. */
export function caseLog(c: EvidenceCase, dir = EVIDENCE_DIR): string {
  return evidenceLog(c.source.log, dir);
}

/** Each reported figure of a case, read from its log (in the order of c.figures). */
export function readFigures(c: EvidenceCase, dir = EVIDENCE_DIR): ReadFigure[] {
  const log = new LogReader(caseLog(c, dir));
  return c.figures.map((f) => {
    try {
      return log.figure(f);
    } catch (e) {
      throw new Error(`case ${c.id}, figure "${f.name}": ${(e as Error).message}`);
    }
  });
}

/** The model a case describes, or undefined when it names none (the figures are then reported only). */
export async function caseModel(c: EvidenceCase, ev: Evidence, dir = EVIDENCE_DIR): Promise<ModelSpec | undefined> {
  const m = c.model;
  if (m.sameAs) {
    const other = ev.cases.find((x) => x.id === m.sameAs);
    if (!other) throw new Error(`case ${c.id}: sameAs ${m.sameAs} is not a case`);
    return caseModel(other, ev, dir);
  }
  if (m.catalog) return (await resolveModel(m.catalog, { offline: true })).model;
  if (m.configFile) return modelFromConfig(readFileSync(dir + "configs/" + m.configFile, "utf8"), m.name);
  if (m.config) return modelFromConfig(m.config, m.name);
  if (m.gguf) return modelFromGgufMetadata({ ...(m.gguf === "log" ? ggufMetadataFromLog(caseLog(c, dir)) : m.gguf), ...m.ggufOverrides }, m.name);
  return undefined;
}

/** Rows of every case (or of `cases`): reported figure, prediction, error, set, engine, architecture, source. */
export async function evidenceRows(ev = loadEvidence(), cases = ev.cases): Promise<EvidenceRow[]> {
  const rows: EvidenceRow[] = [];
  for (const c of cases) rows.push(...predictCase(c, await caseModel(c, ev), readFigures(c)));
  return rows;
}

export { errorSummaries, heldOutSummary, speedSummaries } from "./summary.js";
export type { ErrorSummary, SpeedSummary } from "./summary.js";
export type { EvidenceRow } from "./predict.js";
export type { EvidenceCase, EvidenceFigure, EvidenceFile } from "./schema.js";
