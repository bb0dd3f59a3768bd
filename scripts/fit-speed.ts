// Fits llama.cpp's speed constants (plugins/engine-llamacpp/speed.ts LLAMACPP_SPEED_PARAMS) on the derived speed
// cases of data/evidence only, through the same code path `hwledger speed` runs (compileSpeed → speedOf), and writes
// plugins/engine-llamacpp/speed-constants.ts with each constant's provenance. Held-out cases are never read here.
//   npx tsx scripts/fit-speed.ts            fit and write the constants
//   npx tsx scripts/fit-speed.ts --cv       leave-one-device-out cross-validation inside the derived set (writes nothing)
// Method: Levenberg–Marquardt on log(predicted / measured), pseudo-Huber weights (scale 0.1), log-parameterised,
// bounded to each constant's [lo, hi]; a constant no derived figure moves keeps its prior (said so in the file).
import { writeFileSync } from "node:fs";
import { compileSpeed, makeDeployment, speedOf } from "../lib/calc/index.js";
import type { SpeedRequest, SpeedTable } from "../lib/calc/index.js";
import { benchmarkClassOf, placementDevice } from "../lib/fleet/caps.js";
import { findDevice } from "../lib/fleet/devices.js";
import { caseModel, loadEvidence, readFigures } from "../loaders/evidence/index.js";
import { LLAMACPP_SPEED_PARAMS, llamaCppSpeed } from "../plugins/engine-llamacpp/index.js";
import { engine } from "../plugins/engines.js";

interface Point {
  table: SpeedTable;
  device: ReturnType<typeof placementDevice>;
  req: SpeedRequest;
  kind: "decode" | "prefill";
  measured: number;
  deviceId: string;
  /** Leave-one-out unit: Apple chips with all their memory sizes, else the device. */
  unit: string;
  cls: string;
}

const ev = loadEvidence();
const derived = ev.cases.filter((c) => c.set === "derived" && c.engine === "llama.cpp" && c.figures.some((f) => f.quantity === "decodeTps" || f.quantity === "prefillTps"));
const points: Point[] = [];
for (const c of derived) {
  const model = (await caseModel(c, ev))!;
  const llama = engine("llama.cpp");
  const dep = makeDeployment(model, { engine: llama, context: c.settings.context, weights: c.settings.weights, options: c.settings.options as never });
  const table = compileSpeed(model, dep, llama);
  const d = findDevice(c.settings.device!);
  const read = readFigures(c);
  c.figures.forEach((f, i) => {
    if (f.notHeld || (f.quantity !== "decodeTps" && f.quantity !== "prefillTps")) return;
    const t = f.test ?? { prompt: c.settings.prompt ?? 0, gen: c.settings.gen ?? 0 };
    points.push({ table, device: placementDevice(d), req: { ...t, seqs: 1 }, kind: f.quantity === "decodeTps" ? "decode" : "prefill", measured: read[i].value, deviceId: d.id, unit: d.id.replace(/-\d+gb$/, ""), cls: benchmarkClassOf(d.category) });
  });
}

const P = LLAMACPP_SPEED_PARAMS;
const constantsOf = (x: number[]) => Object.fromEntries(P.map((p, i) => [p.name, x[i]]));

/** Predictions of points under one constant vector (the engine's speed part built once per vector). */
function predictAll(pts: Point[], x: number[]): Array<number | null> {
  const sp = llamaCppSpeed(constantsOf(x));
  return pts.map((pt) => {
    const r = speedOf({ ...pt.table, engine: { ...pt.table.engine, speed: sp } }, pt.device, pt.req);
    return pt.kind === "decode" ? r.decodeTokensPerSecond : r.prefillTokensPerSecond;
  });
}

const F = 0.1;
const cost = (e: number[]) => e.reduce((s, q) => s + 2 * F * F * (Math.sqrt(1 + (q / F) ** 2) - 1), 0);

function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((r, i) => [...r, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    const d = M[c][c] || 1e-300;
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / d;
      if (f) for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / (M[r][r] || 1e-300);
  }
  return x;
}

/** Returns the fitted constants and which of them the data moved (a non-zero Jacobian column). */
function fit(pts: Point[], iterations = 300): { x: number[]; constrained: boolean[] } {
  const lo = P.map((p) => Math.log(p.lo));
  const hi = P.map((p) => Math.log(p.hi));
  const clamp = (z: number[]) => z.map((q, i) => Math.min(hi[i], Math.max(lo[i], q)));
  const res = (z: number[]) => predictAll(pts, z.map(Math.exp)).map((p, i) => (p ? Math.log(p / pts[i].measured) : 0));
  let cur = clamp(P.map((p) => Math.log(p.init)));
  let e = res(cur);
  let c0 = cost(e);
  let lambda = 1e-2;
  let J: number[][] = [];
  for (let it = 0; it < iterations; it++) {
    const w = e.map((q) => 1 / Math.sqrt(Math.sqrt(1 + (q / F) ** 2)));
    J = cur.map((_, j) => {
      const z = cur.slice();
      z[j] += 1e-5;
      return res(z).map((q, i) => (q - e[i]) / 1e-5);
    });
    const n = cur.length;
    const JtJ = Array.from({ length: n }, () => new Array(n).fill(0));
    const Jte = new Array(n).fill(0);
    for (let a = 0; a < n; a++) {
      for (let i = 0; i < e.length; i++) Jte[a] += J[a][i] * w[i] * w[i] * e[i];
      for (let b = a; b < n; b++) {
        let s = 0;
        for (let i = 0; i < e.length; i++) s += J[a][i] * J[b][i] * w[i] * w[i];
        JtJ[a][b] = JtJ[b][a] = s;
      }
    }
    let improved = false;
    for (let tries = 0; tries < 12 && !improved; tries++) {
      const M = JtJ.map((row, a) => row.map((v, b) => (a === b ? v + lambda * (v + 1e-9) : v)));
      const step = solve(M, Jte.map((q) => -q));
      const cand = clamp(cur.map((q, i) => q + step[i]));
      const e2 = res(cand);
      const c2 = cost(e2);
      if (c2 < c0) {
        cur = cand;
        e = e2;
        lambda = Math.max(lambda / 3, 1e-9);
        improved = c0 - c2 > 1e-12;
        c0 = c2;
      } else lambda *= 4;
    }
    if (!improved) break;
  }
  return { x: cur.map(Math.exp), constrained: J.map((col) => col.some((q) => Math.abs(q) > 1e-9)) };
}

const median = (a: number[]) => {
  const s = [...a].sort((p, q) => p - q);
  const k = s.length;
  return k % 2 ? s[(k - 1) / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
};
function table(title: string, errs: Map<string, number[]>): string[] {
  return [title, ...[...errs].sort().map(([k, v]) => `  ${k.padEnd(28)} n=${String(v.length).padStart(3)}  median |err| ${(100 * median(v.map(Math.abs))).toFixed(1)}%`)];
}
const group = (pts: Point[], x: number[]) => {
  const g = new Map<string, number[]>();
  const ps = predictAll(pts, x);
  for (const [i, pt] of pts.entries()) {
    const p = ps[i];
    if (p === null) continue;
    const k = `${pt.cls} ${pt.kind}`;
    if (!g.has(k)) g.set(k, []);
    g.get(k)!.push(p / pt.measured - 1);
  }
  return g;
};

if (process.argv.includes("--cv")) {
  const units = [...new Set(points.map((p) => p.unit))].sort();
  const errs = new Map<string, number[]>();
  for (const u of units) {
    const { x } = fit(points.filter((p) => p.unit !== u), 150);
    for (const [k, v] of group(points.filter((p) => p.unit === u), x)) errs.set(k, [...(errs.get(k) ?? []), ...v]);
    console.error(`left out ${u}`);
  }
  console.log(table(`leave-one-device-out cross-validation inside the derived set (${units.length} devices/chips, ${points.length} figures):`, errs).join("\n"));
} else {
  const { x, constrained } = fit(points);
  const lines = table(`derivation fit (${points.length} figures of ${derived.length} derived cases):`, group(points, x));
  console.log(lines.join("\n"));
  const out = [
    "// Generated by scripts/fit-speed.ts: llama.cpp's speed constants fitted on the derived speed cases of data/evidence",
    `// only (${points.length} figures of ${derived.length} cases; Levenberg–Marquardt on log errors, pseudo-Huber 0.1). Do not edit`,
    "// by hand: change a case or the model, rerun the script. Each constant: its meaning (speed.ts) and its provenance.",
    ...lines.map((l) => `// ${l}`),
    "export const LLAMACPP_SPEED: Record<string, number> = {",
    ...P.map((p, i) => {
      const at = x[i] <= p.lo * 1.0001 ? ` at its lower bound ${p.lo}` : x[i] >= p.hi * 0.9999 ? ` at its upper bound ${p.hi}` : "";
      const why = constrained[i] ? `Fit (derived set)${at}.` : `Prior ${p.init}: no derived figure constrains it.`;
      return `  /** ${p.meaning}. ${why} */\n  ${p.name}: ${Number(x[i].toPrecision(4))},`;
    }),
    "};",
    "",
  ];
  writeFileSync(new URL("../plugins/engine-llamacpp/speed-constants.ts", import.meta.url), out.join("\n"));
}
