// llama.cpp speed against published results (data/evidence/cases/speed-*.json): the held-out median absolute error
// per device class, the goal of issue 14 (decode ≤ 10%, prefill ≤ 15%, no class over 20%) asserted where it holds.
// The constants were fitted on the derived cases only (scripts/fit-speed.ts); the split is by device, so no held-out
// device was seen by the fit. Caveat kept with the data: the held-out errors were looked at while the model's
// structure (not its constants) was chosen; structure changes since are judged by cross-validation inside the
// derived set (`npx tsx scripts/fit-speed.ts --cv`). Printed figures are the ones to quote.
import { describe, expect, it } from "vitest";
import { evidenceRows, loadEvidence, speedSummaries } from "../../loaders/evidence/index.js";

const ev = loadEvidence();
const speedCases = ev.cases.filter((c) => c.figures.some((f) => f.quantity === "prefillTps" || f.quantity === "decodeTps"));
const rows = (await evidenceRows(ev, speedCases)).filter((r) => r.quantity === "prefillTps" || r.quantity === "decodeTps");
const summary = speedSummaries(rows);
const GOAL_CLASSES = ["NVIDIA consumer", "NVIDIA datacenter", "AMD", "Apple"];
const of = (quantity: string, cls: string, set = "held-out") => summary.find((s) => s.quantity === quantity && s.deviceClass === cls && s.set === set);

describe("llama.cpp speed vs published llama-bench results", () => {
  it("prints the error per device class (held-out apart)", () => {
    const line = (s: (typeof summary)[number]) =>
      `${s.set.padEnd(9)} ${s.deviceClass.padEnd(18)} ${(s.quantity === "decodeTps" ? "decode" : "prefill").padEnd(8)} n=${String(s.figures).padStart(3)} (${String(s.devices).padStart(2)} devices)  median |err| ${s.medianAbsPct.toFixed(1).padStart(5)}%  signed mean ${s.meanPct.toFixed(1).padStart(6)}%  max ${s.maxAbsPct.toFixed(0)}%`;
    console.log(`speed evidence, llama.cpp (${rows.length} figures):\n${summary.filter((s) => s.engine === "llama.cpp").map(line).join("\n")}`);
    expect(summary.length).toBeGreaterThan(0);
  });

  it("predicts every published figure", () => {
    expect(rows.length).toBeGreaterThanOrEqual(550);
    for (const r of rows) expect(r.predicted, `${r.case} ${r.figure}`).not.toBeNull();
  });

  it("held-out decode within 10% and prefill within 15% (median |error|) for NVIDIA consumer, NVIDIA datacenter, AMD and Apple", () => {
    for (const cls of GOAL_CLASSES) {
      const d = of("decodeTps", cls)!;
      const p = of("prefillTps", cls)!;
      expect(d.figures, cls).toBeGreaterThanOrEqual(4);
      expect(p.figures, cls).toBeGreaterThanOrEqual(4);
      expect(d.medianAbsPct, `${cls} decode`).toBeLessThanOrEqual(10);
      expect(p.medianAbsPct, `${cls} prefill`).toBeLessThanOrEqual(15);
    }
  });

  it("Intel (one Arc A770 Vulkan result, no Intel derivation data) is reported, not held to the goal: about 2× over-predicted", () => {
    const d = of("decodeTps", "Intel")!;
    expect(d.figures).toBe(1);
    expect(d.meanPct).toBeGreaterThan(50);
  });

  it("splits by device: no device of the published results is on both sides", () => {
    const lb = rows.filter((r) => r.case.startsWith("lb-"));
    const derived = new Set(lb.filter((r) => r.set === "derived").map((r) => r.device));
    for (const r of lb.filter((x) => x.set === "held-out")) expect(derived.has(r.device), r.case).toBe(false);
    expect(derived.size).toBeGreaterThanOrEqual(15);
  });

  it("keeps the data-quality flagged results out of the summaries, each with its reason", () => {
    const flagged = rows.filter((r) => !r.held);
    expect(flagged.length).toBe(9);
    for (const r of flagged) expect(r.note, r.case).toMatch(/^data-quality flag: /);
  });
});
