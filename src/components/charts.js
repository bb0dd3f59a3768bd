// Plot charts of /compare and /evidence, each `Chart(data, {width, …})` -> an element. Titles, units and tooltips on
// all; long axis labels are cut to fit their margin, never clipped. (/what-if's charts, Plot-free: whatif-charts.js.)
import * as Plot from "@observablehq/plot";

const GIB = 1024 ** 3;
const gib = (b) => b / GIB;
const fmt = (b) => `${gib(b).toFixed(2)} GiB`;
/** Axis label cut with an ellipsis to fit `margin` px (the full text stays in the tooltip), never clipped mid-glyph. */
const fitLabel = (margin) => (l) => (String(l).length * 6.2 + 12 > margin ? String(l).slice(0, Math.max(4, Math.floor((margin - 24) / 6.2))) + "…" : String(l));
/** Left margin that fits the longest of `labels` (about 6.2 px per character at the axis' 10 px font), capped. */
const marginFor = (labels, width = 640) => Math.min(Math.round((width ?? 640) * 0.45), 12 + Math.ceil(6.2 * Math.max(0, ...labels.map((l) => String(l).length))));

/** One colour per model across a page: the same ordinal scale for every chart of /compare (models in pick order). */
export function modelColors(models) {
  return {type: "ordinal", domain: models, scheme: "tableau10"};
}

/** Compare: a line per model of some byte figure against context (log–log: a 405B model does not flatten a 7B one). */
export function LinesByModel(rows, {width, title, y = "bytes", yLabel = "↑ GiB (log)", color} = {}) {
  const shown = rows.filter((d) => d[y] > 0);
  return Plot.plot({
    title,
    width,
    height: 340,
    x: {type: "log", label: "context per sequence (tokens) →", grid: true},
    y: {type: "log", label: yLabel, grid: true},
    color: {...color, legend: true},
    marks: [Plot.line(shown, {x: "context", y: (d) => gib(d[y]), stroke: "model", tip: true, title: (d) => `${d.model} at ${d.context} tokens: ${fmt(d[y])}`})],
  });
}

/** Compare: horizontal bars, one per model (its colour), of a byte figure; the architecture in the label. */
export function BarsByModel(rows, {width, title, x = "bytes", label = "KiB per token →", scale = 1024, color} = {}) {
  const name = (d) => `${d.model} — ${d.kind}`;
  const marginLeft = marginFor(rows.map(name), width);
  return Plot.plot({
    title,
    width,
    height: 40 + 26 * rows.length,
    marginLeft,
    x: {label, grid: true},
    y: {label: null, tickFormat: fitLabel(marginLeft)},
    color,
    marks: [
      Plot.barX(rows, {x: (d) => d[x] / scale, y: name, fill: "model", sort: {y: "x"}, tip: true, title: (d) => `${d.model} (${d.kind}): ${(d[x] / scale).toFixed(1)}`}),
    ],
  });
}

/** Compare: resident vs active parameters per model (billions, log scale so 405B and 1B both read). */
export function ParamsChart(rows, {width, color} = {}) {
  const long = rows.flatMap((r) => [
    {model: r.model, which: "resident", b: r.total / 1e9},
    {model: r.model, which: "active per token", b: r.active / 1e9},
  ]);
  return Plot.plot({
    title: "Resident (solid) vs active (light) parameters, billions (log scale)",
    width,
    height: 40 + 34 * rows.length,
    marginLeft: marginFor(rows.map((r) => r.model), width),
    x: {type: "log", label: "parameters (B, log) →", grid: true},
    fy: {label: null, axis: "left", tickFormat: fitLabel(marginFor(rows.map((r) => r.model), width))},
    y: {axis: null, domain: ["resident", "active per token"]},
    color,
    marks: [Plot.barX(long, {x1: 0.01, x2: "b", y: "which", fy: "model", fill: "model", fillOpacity: (d) => (d.which === "resident" ? 1 : 0.45), tip: true, title: (d) => `${d.model} ${d.which}: ${d.b.toFixed(2)}B`})],
  });
}


/** Evidence: every predicted figure's error in percent (0 = exact), one row per engine × figure × route, held-out vs derived. */
export function ErrorChart(rows, {width, label} = {}) {
  const groups = [...new Set(rows.map(label))];
  const marginLeft = marginFor(groups, width);
  return Plot.plot({
    title: "Prediction error per figure (%; symmetric log scale)",
    width,
    height: 70 + 22 * groups.length,
    marginLeft,
    marginRight: 30,
    x: {type: "symlog", ticks: [-50, -10, 0, 10, 50, 200, 1000], label: "error (predicted − reported) / reported, % →", grid: true},
    y: {label: null, domain: groups, tickFormat: fitLabel(marginLeft)},
    color: {domain: ["held-out", "derived"], range: ["#e1372b", "#4269d0"], legend: true},
    marks: [
      Plot.ruleX([0]),
      Plot.dot(rows, {x: "errorPct", y: label, stroke: "set", r: 3.5, tip: true, title: (d) => `${d.case} (${d.set})\n${label(d)}\n${d.figure}: reported ${d.reportedText}, predicted ${d.predictedText} (${d.errorPct.toFixed(2)}%)\n${d.source.url}`}),
    ],
  });
}

/**
 * Evidence: error bars per engine × architecture class (held-out and derived apart): the dot is the mean error, the
 * thick bar mean ± one standard deviation, the thin line the whole range; n figures at the right.
 */
export function ErrorBars(stats, {width} = {}) {
  const key = (d) => `${d.engine} · ${d.architecture}`;
  const groups = [...new Set(stats.map(key))];
  const marginLeft = marginFor(groups, width);
  return Plot.plot({
    title: "Error per engine × architecture class (%; mean ± 1 SD, line = min to max)",
    width,
    height: 80 + 34 * groups.length,
    marginLeft,
    marginRight: 70,
    x: {type: "symlog", ticks: [-50, -10, -2, 0, 2, 10, 50, 200], label: "error (predicted − reported) / reported, % →", grid: true},
    y: {label: null, domain: groups, tickFormat: fitLabel(marginLeft)},
    color: {domain: ["held-out", "derived"], range: ["#e1372b", "#4269d0"], legend: true},
    // Held-out just above the row's centre, derived just below (dy is a constant per mark, so one set per mark).
    marks: [
      Plot.ruleX([0]),
      ...[["held-out", -5], ["derived", 5]].flatMap(([set, dy]) => {
        const rows = stats.filter((d) => d.set === set);
        return [
          Plot.ruleY(rows, {y: key, x1: "min", x2: "max", stroke: "set", strokeOpacity: 0.5, dy}),
          Plot.ruleY(rows, {y: key, x1: (d) => d.mean - d.sd, x2: (d) => d.mean + d.sd, stroke: "set", strokeWidth: 5, dy}),
          Plot.dot(rows, {y: key, x: "mean", fill: "set", r: 3.5, dy, tip: true, title: (d) => `${key(d)} (${d.set}): ${d.n} figures\nmean ${d.mean.toFixed(2)}%, SD ${d.sd.toFixed(2)}%\nmin ${d.min.toFixed(2)}%, max ${d.max.toFixed(2)}%`}),
          Plot.text(rows, {y: key, x: (d) => d.max, text: (d) => `n=${d.n}`, dx: 6, dy, textAnchor: "start", fill: "set", fontSize: 9}),
        ];
      }),
    ],
  });
}

/** Mean, SD, min and max of the error per engine × architecture class × set. */
export function errorStats(rows) {
  const by = new Map();
  for (const r of rows) {
    const k = `${r.engine}|${r.architecture}|${r.set}`;
    if (!by.has(k)) by.set(k, {engine: r.engine, architecture: r.architecture, set: r.set, xs: []});
    by.get(k).xs.push(r.errorPct);
  }
  return [...by.values()].map(({xs, ...g}) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    return {...g, n: xs.length, mean, sd, min: Math.min(...xs), max: Math.max(...xs)};
  }).sort((a, b) => a.engine.localeCompare(b.engine) || a.architecture.localeCompare(b.architecture) || a.set.localeCompare(b.set));
}
