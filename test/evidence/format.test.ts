// data/evidence in its one format: every case file validates (loaders/evidence/schema.ts), every log a case names is
// there and has a source note, every figure is read from its log, and the rows the site shows name no machine path.
import { readFileSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { describe, expect, it } from "vitest";
import { EVIDENCE_DIR, evidenceRows, loadEvidence, readFigures } from "../../loaders/evidence/index.js";
import { caseFileSchema } from "../../loaders/evidence/schema.js";
import { ROOT } from "../helpers/cli.js";

const ev = loadEvidence();
const logs = readdirSync(EVIDENCE_DIR + "logs").filter((f) => !f.startsWith("SOURCES-"));
const notes = readdirSync(EVIDENCE_DIR + "logs").filter((f) => f.startsWith("SOURCES-")).map((f) => readFileSync(EVIDENCE_DIR + "logs/" + f, "utf8")).join("\n");

describe("data/evidence", () => {
  it("holds a case file per engine (and the speed results), each valid against the schema", () => {
    expect(Object.keys(ev.files).sort()).toEqual(["llamacpp.json", "mlx.json", "ollama.json", "speed-llamabench.json", "speed-llamacpp.json", "transformers.json", "vllm.json"]);
    expect(ev.cases.length).toBeGreaterThanOrEqual(70);
  });

  it("rejects a case that is derived without saying from what, or names an unknown figure", () => {
    const file = JSON.parse(readFileSync(EVIDENCE_DIR + "cases/mlx.json", "utf8"));
    const c = file.cases[0];
    expect(caseFileSchema.safeParse({ ...file, cases: [{ ...c, set: "derived", derivedFor: undefined }] }).success).toBe(false);
    expect(caseFileSchema.safeParse({ ...file, cases: [{ ...c, set: "held-out", derivedFor: ["x"] }] }).success).toBe(false);
    expect(caseFileSchema.safeParse({ ...file, cases: [{ ...c, figures: [{ ...c.figures[0], quantity: "speed" }] }] }).success).toBe(false);
    expect(caseFileSchema.safeParse({ ...file, cases: [{ ...c, source: { ...c.source, log: "../secret" } }] }).success).toBe(false);
  });

  it("every log a case reads is in data/evidence/logs with a source note; every log there is named in a note", () => {
    for (const c of ev.cases) expect(logs, c.id).toContain(c.source.log);
    for (const f of logs) expect(notes, f).toContain(f);
  });

  it("reads every figure of every case from its log (no figure is typed into a case)", () => {
    for (const c of ev.cases) for (const f of readFigures(c)) expect(Number.isFinite(f.value) && f.value > 0, c.id).toBe(true);
  });

  it("marks every case derived or held-out, and counts both sets per engine", () => {
    const counts: Record<string, Record<string, number>> = {};
    for (const c of ev.cases) {
      counts[c.engine] ??= { derived: 0, "held-out": 0 };
      counts[c.engine][c.set]++;
    }
    console.log(`evidence cases per engine × set: ${JSON.stringify(counts)}`);
    for (const c of ev.cases.filter((x) => x.set === "derived")) expect(c.derivedFor!.length, c.id).toBeGreaterThan(0);
  });

  it("the rows the site shows carry no absolute path of this machine", async () => {
    const text = JSON.stringify(await evidenceRows(ev));
    for (const p of [ROOT, homedir(), "/work/", "/home/", "/tmp/"]) expect(text.includes(p), p).toBe(false);
    expect(text).not.toMatch(/["\s(]\/[A-Za-z][\w.-]*\//);
  });
});
