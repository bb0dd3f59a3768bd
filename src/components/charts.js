// Small chart functions, each `Chart(data, {width, …})` -> an element. Titles, units (GiB) and tooltips on all.
import * as Plot from "@observablehq/plot";
import {interpolateBlues} from "d3-scale-chromatic";
import {gaugeLevel} from "./whatif.js";

const GIB = 1024 ** 3;
const gib = (b) => b / GIB;
const fmt = (b) => `${gib(b).toFixed(2)} GiB`;
/** Left margin that fits the longest of `labels` (about 6.2 px per character at the axis' 10 px font), capped. */
/** Axis label cut with an ellipsis to fit `margin` px (the full text stays in the tooltip), never clipped mid-glyph. */
const fitLabel = (margin) => (l) => (String(l).length * 6.2 + 12 > margin ? String(l).slice(0, Math.max(4, Math.floor((margin - 24) / 6.2))) + "…" : String(l));
const marginFor = (labels, width = 640) => Math.min(Math.round((width ?? 640) * 0.45), 12 + Math.ceil(6.2 * Math.max(0, ...labels.map((l) => String(l).length))));

export const COMPONENT_COLORS = {
  domain: ["weights", "KV cache", "activations", "overhead", "free"],
  range: ["#4269d0", "#efb118", "#ff725c", "#a463f2", "#9aa5b1"],
};

/** Stacked bar per device: weights | KV | activations | overhead | free, against the device's memory (per GPU). */
export function StackedBar(whatIf, {width} = {}) {
  const rows = [];
  for (const f of whatIf.fits) {
    const label = f.device.name;
    const p = whatIf.perRank;
    const parts = [
      ["weights", p.weightsBytes],
      ["KV cache", p.kvCacheBytes],
      ["activations", p.activationBytes],
      ["overhead", p.overheadBytes],
      ["free", Math.max(0, f.device.memoryBytes - p.totalBytes)],
    ];
    for (const [component, bytes] of parts) rows.push({device: label, component, bytes, gib: gib(bytes)});
  }
  const limits = whatIf.fits.map((f) => ({device: f.device.name, gib: gib(f.device.memoryBytes)}));
  return Plot.plot({
    title: "Memory per GPU against device memory",
    width,
    height: 60 + 40 * whatIf.fits.length,
    marginLeft: 170,
    x: {label: "GiB per GPU →", grid: true},
    y: {label: null},
    color: {...COMPONENT_COLORS, legend: true},
    marks: [
      Plot.barX(rows, Plot.stackX({x: "gib", y: "device", fill: "component", order: COMPONENT_COLORS.domain, title: (d) => `${d.component}: ${fmt(d.bytes)}`, tip: true})),
      Plot.tickX(limits, {x: "gib", y: "device", stroke: "currentColor", strokeWidth: 2}),
    ],
  });
}

const GAUGE_COLORS = {green: "#3ca951", yellow: "#efb118", red: "#e1372b"};

/**
 * Gauge of used / device memory per device: green ≤ 80%, yellow ≤ 95%, red above. Plain HTML bars (no scales to
 * compute), so it redraws within the slider's frame; the 80% and 95% marks are drawn on each bar.
 */
export function Gauge(fits, {width} = {}) {
  const root = document.createElement("figure");
  root.className = "hw-gauge";
  if (width) root.style.maxWidth = `${width}px`;
  const h = document.createElement("h2");
  h.textContent = "Device memory used (%)";
  // The thresholds, labelled once above the bars (the dashed marks on each bar line up with them).
  const scale = document.createElement("div");
  scale.className = "hw-gauge-row hw-gauge-scale";
  scale.innerHTML = `<span></span><span class="hw-gauge-axis"><span style="left:0">0</span><span style="left:80%">80%</span><span style="left:95%">95%</span></span><span></span>`;
  const legend = document.createElement("div");
  legend.className = "hw-gauge-legend muted";
  legend.innerHTML = `<span style="color:${GAUGE_COLORS.green}">■</span> up to 80%: room to spare · <span style="color:${GAUGE_COLORS.yellow}">■</span> 80–95%: tight · <span style="color:${GAUGE_COLORS.red}">■</span> over 95%: little or no headroom`;
  root.append(h, legend, scale);
  for (const f of fits) {
    const pct = f.usedFraction * 100;
    const level = gaugeLevel(f.usedFraction);
    const row = document.createElement("div");
    row.className = "hw-gauge-row";
    row.dataset.level = level;
    row.title = `${f.device.name}: ${pct.toFixed(1)}% (${fmt(f.needBytes)} of ${fmt(f.device.memoryBytes)} per GPU)`;
    const label = document.createElement("span");
    label.className = "hw-gauge-label";
    label.textContent = f.device.name;
    const track = document.createElement("span");
    track.className = "hw-gauge-track";
    const bar = document.createElement("span");
    bar.className = "hw-gauge-bar";
    bar.style.width = `${Math.min(100, pct)}%`;
    bar.style.background = GAUGE_COLORS[level];
    track.append(bar);
    for (const mark of [80, 95]) {
      const m = document.createElement("span");
      m.className = "hw-gauge-mark";
      m.style.left = `${mark}%`;
      track.append(m);
    }
    const value = document.createElement("span");
    value.className = "hw-gauge-value";
    value.textContent = `${pct.toFixed(1)}%`;
    row.append(label, track, value);
    root.append(row);
  }
  return root;
}

/**
 * Per-layer heatmap: layer × component (weights by tensor role, cache by kind), bytes per cell (all GPUs).
 * A CSS grid rather than a Plot: hundreds of cells redraw within the slider's frame. Native tooltips per cell.
 */
export function LayerHeatmap(cells, {width} = {}) {
  const components = [...new Set(cells.map((c) => c.component))].sort((a, b) => (a.startsWith("cache") - b.startsWith("cache")) || a.localeCompare(b));
  const layers = [...new Map(cells.map((c) => [c.layer, c.kind])).entries()];
  const max = Math.max(1, ...cells.map((c) => c.bytes));
  const color = (b) => (b > 0 ? interpolateBlues(0.08 + 0.92 * Math.sqrt(b / max)) : "transparent");
  const at = new Map(cells.map((c) => [`${c.layer}|${c.component}`, c]));
  const root = document.createElement("figure");
  root.className = "hw-heatmap";
  if (width) root.style.maxWidth = `${width}px`;
  const h = document.createElement("h2");
  h.textContent = "Per-layer memory by component (GiB, all GPUs)";
  const grid = document.createElement("div");
  grid.className = "hw-heatmap-grid";
  grid.style.gridTemplateColumns = `12em repeat(${components.length}, minmax(2.2em, 1fr))`;
  const parts = ['<div class="hw-hm-corner">layer · kind</div>'];
  for (const c of components) parts.push(`<div class="hw-hm-col" title="${c}">${c.replace(/^weights: /, "w: ")}</div>`);
  for (const [layer, kind] of layers) {
    parts.push(`<div class="hw-hm-row">${layer} · ${kind}</div>`);
    for (const comp of components) {
      const c = at.get(`${layer}|${comp}`);
      const b = c ? c.bytes : 0;
      parts.push(`<div class="hw-hm-cell" style="background:${color(b)}" title="layer ${layer} (${kind})\n${comp}: ${fmt(b)}"></div>`);
    }
  }
  grid.innerHTML = parts.join("");
  const legend = document.createElement("div");
  legend.className = "hw-hm-legend";
  legend.innerHTML = `<span>0</span><span class="hw-hm-ramp" style="background:linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map((t) => interpolateBlues(0.08 + 0.92 * t)).join(",")})"></span><span>${gib(max).toFixed(3)} GiB (sqrt scale)</span>`;
  root.append(h, legend, grid);
  return root;
}

/**
 * KV cache and total per GPU against context (log x), with each device's memory drawn as a limit. The chosen
 * context is a marker moved by `chart.setContext(n)` without redrawing the chart (the slider moves it often).
 */
export function KvGrowth(rows, devices, {width, context} = {}) {
  const fig = Plot.plot({
    title: "KV cache and total per GPU against context",
    width,
    height: 320,
    x: {type: "log", label: "context per sequence (tokens) →", grid: true},
    y: {label: "↑ GiB per GPU", grid: true},
    color: {domain: ["KV cache", "total"], range: ["#efb118", "#4269d0"], legend: true},
    marks: [
      Plot.line(rows, {x: "context", y: (d) => gib(d.bytes), stroke: "series", tip: true, title: (d) => `${d.series} at ${d.context} tokens: ${fmt(d.bytes)}`}),
      Plot.ruleY(devices, {y: (d) => gib(d.memoryBytes), stroke: "#e1372b", strokeDasharray: "4,3"}),
      Plot.text(devices, {y: (d) => gib(d.memoryBytes), x: rows.length ? rows[0].context : 1, text: (d) => `${d.name} (${fmt(d.memoryBytes)})`, textAnchor: "start", dy: -6, fill: "#e1372b"}),
    ],
  });
  const svgs = fig.tagName.toLowerCase() === "svg" ? [fig] : fig.querySelectorAll("svg");
  const svg = svgs[svgs.length - 1];
  const x = fig.scale("x");
  const [y0, y1] = fig.scale("y").range;
  const marker = document.createElementNS("http://www.w3.org/2000/svg", "line");
  marker.setAttribute("class", "hw-context-marker");
  marker.setAttribute("stroke", "currentColor");
  marker.setAttribute("stroke-opacity", "0.6");
  marker.setAttribute("y1", y0);
  marker.setAttribute("y2", y1);
  svg.append(marker);
  fig.setContext = (n) => {
    const px = x.apply(n);
    marker.setAttribute("x1", px);
    marker.setAttribute("x2", px);
    marker.dataset.context = n;
  };
  if (context) fig.setContext(context);
  return fig;
}

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
    marks: [
      Plot.ruleX([0]),
      Plot.ruleY(stats, {y: key, x1: "min", x2: "max", stroke: "set", strokeOpacity: 0.5, dy: (d) => (d.set === "held-out" ? -5 : 5)}),
      Plot.ruleY(stats, {y: key, x1: (d) => d.mean - d.sd, x2: (d) => d.mean + d.sd, stroke: "set", strokeWidth: 5, dy: (d) => (d.set === "held-out" ? -5 : 5)}),
      Plot.dot(stats, {y: key, x: "mean", fill: "set", r: 3.5, dy: (d) => (d.set === "held-out" ? -5 : 5), tip: true, title: (d) => `${key(d)} (${d.set}): ${d.n} figures\nmean ${d.mean.toFixed(2)}%, SD ${d.sd.toFixed(2)}%\nmin ${d.min.toFixed(2)}%, max ${d.max.toFixed(2)}%`}),
      Plot.text(stats, {y: key, x: (d) => d.max, text: (d) => `n=${d.n}`, dx: 6, textAnchor: "start", dy: (d) => (d.set === "held-out" ? -5 : 5), fill: "set", fontSize: 9}),
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
