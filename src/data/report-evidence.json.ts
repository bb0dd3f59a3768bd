// Data loader: the held-out evidence rows a capacity report reads (lib/fleet/report.ts evidenceErrorFor), only the
// fields it needs, so each /reports/<slug> page loads a few KB rather than the whole /evidence data.
import { evidenceRows, loadEvidence } from "../../loaders/evidence/index.js";

const rows = (await evidenceRows(loadEvidence()))
  .filter((r) => r.set === "held-out" && r.held && r.errorPct !== null)
  .map((r) => ({ case: r.case, engine: r.engine, architecture: r.architecture, set: r.set, held: r.held, errorPct: r.errorPct, quantity: r.quantity }));
process.stdout.write(JSON.stringify(rows));
