// Data loader: every evidence case of data/evidence (verbatim engine figures) with hwledger's prediction, computed now
// by loaders/evidence (the planner functions the CLI uses), and the error summaries per engine × figure × route, the
// held-out set apart, and the speed error per device class. Nothing here reads test/ or writes a file.
import { errorSummaries, evidenceRows, loadEvidence, speedSummaries } from "../../loaders/evidence/index.js";
import { formatFigure } from "../../loaders/evidence/schema.js";

const ev = loadEvidence();
const rows = (await evidenceRows(ev)).map(({ breakdown: _b, ...r }) => ({
  ...r,
  reportedText: r.printed !== undefined && !/,/.test(r.printed) && r.unit !== "cells" && r.unit !== "tokens" ? `${r.printed} ${r.unit}` : formatFigure(r.reported, r.unit),
  predictedText: r.predicted === null ? null : r.predictedPrinted !== undefined && r.unit !== "cells" ? `${r.predictedPrinted} ${r.unit}` : formatFigure(r.predicted, r.unit),
}));
// Case notes explain the outliers on the page (e.g. a budget printed for one worker of several).
const cases = ev.cases.map((c) => ({ id: c.id, engine: c.engine, set: c.set, hardware: c.hardware.name, notes: c.notes ?? null, notHeld: c.notHeld?.why ?? null }));
process.stdout.write(JSON.stringify({ rows, cases, summaries: errorSummaries(rows.filter((r) => r.held)), speed: speedSummaries(rows) }));
