// Chart functions for the fleet pages, each `Chart(data, {width, …})` -> an element with a title, units and tips.
import * as Plot from "@observablehq/plot";

const GIB = 1024 ** 3;
const gib = (b) => b / GIB;
/** Dollar labels on a log axis: only 1, 2 and 5 × 10^k are labelled (the other ticks stay as grid lines). */
const usdLog = (d) => ([1, 2, 5].includes(Math.round(d / 10 ** Math.floor(Math.log10(d)))) ? `$${+d.toPrecision(2)}` : "");

/** Memory used (GiB) per device over time, from telemetry_sample events. */
export function MemoryOverTime(samples, {width} = {}) {
  const rows = samples.filter((s) => typeof s.used === "number").map((s) => ({...s, date: new Date(s.ts), gib: gib(s.used), cap: s.total ? gib(s.total) : null}));
  return Plot.plot({
    title: "Memory used over time (GiB)",
    width,
    height: 280,
    x: {type: "utc", label: "time (UTC) →"},
    y: {label: "↑ GiB used", grid: true},
    color: {legend: true, label: "device"},
    marks: [
      Plot.lineY(rows, {x: "date", y: "gib", stroke: "device", tip: true, title: (d) => `${d.device} (${d.host})\n${d.ts}\n${d.gib.toFixed(2)} GiB of ${d.cap?.toFixed(0) ?? "?"} GiB`}),
      Plot.ruleY([0]),
    ],
  });
}

/** GPU utilization (%) per device over time. */
export function UtilizationOverTime(samples, {width} = {}) {
  const rows = samples.filter((s) => typeof s.util === "number").map((s) => ({...s, date: new Date(s.ts)}));
  return Plot.plot({
    title: "Utilization over time (%)",
    width,
    height: 240,
    x: {type: "utc", label: "time (UTC) →"},
    y: {label: "↑ utilization %", domain: [0, 100], grid: true},
    color: {legend: true, label: "device"},
    marks: [Plot.lineY(rows, {x: "date", y: "util", stroke: "device", tip: true, title: (d) => `${d.device}\n${d.ts}\n${d.util}%${d.power ? `, ${d.power} W` : ""}`})],
  });
}

/** Prediction error (%) per recorded run and figure: (predicted − actual) / actual. */
export function PredictionError(rows, {width} = {}) {
  const data = rows.filter((r) => r.errorPct !== null);
  const lim = Math.max(5, ...data.map((r) => Math.abs(r.errorPct)));
  return Plot.plot({
    title: "Prediction error per recorded run (%; > 0 = predicted more than measured)",
    width,
    height: 60 + 26 * new Set(data.map((r) => r.run)).size * 3,
    marginLeft: 230,
    x: {domain: [-lim * 1.1, lim * 1.1], label: "error % →", grid: true},
    y: {label: null},
    fy: {label: null},
    color: {legend: true, domain: ["weights", "KV cache", "decode tok/s"], range: ["#4269d0", "#efb118", "#3ca951"]},
    marks: [
      Plot.barX(data, {x: "errorPct", y: (d) => `${d.run} · ${d.figure}`, fill: "figure", tip: true, title: (d) => `${d.run} (${d.engine} on ${d.device})\n${d.figure}: predicted ${d.predictedText}, measured ${d.actualText}\nerror ${d.errorPct.toFixed(2)}%`}),
      Plot.ruleX([0]),
    ],
  });
}

/** Billing per day, stacked by device ($). */
export function CostPerDay(rows, {width} = {}) {
  const data = rows.filter((r) => r.cost !== null);
  return Plot.plot({
    title: "Cost per day by device (USD)",
    width,
    height: 260,
    x: {label: "day", type: "band"},
    y: {label: "↑ USD", grid: true},
    color: {legend: true, label: "device"},
    marks: [Plot.barY(data, {x: "period", y: "cost", fill: "device", tip: true, title: (d) => `${d.period} ${d.device}\n$${d.cost.toFixed(2)} for ${d.busyHours.toFixed(2)} busy h\n${d.basis}`}), Plot.ruleY([0])],
  });
}

/** Cost per million generated tokens by device and pricing (owned / on-demand / spot), log scale. */
export function CostPerMillion(rows, {width} = {}) {
  const data = rows.filter((r) => Number.isFinite(r.perMillion));
  return Plot.plot({
    title: "Cost per million generated tokens (USD, log scale)",
    width,
    height: 60 + 22 * new Set(data.map((r) => r.device)).size * 2,
    marginLeft: 160,
    x: {type: "log", label: "USD per 1M tokens →", grid: true, tickFormat: usdLog},
    // Cheapest device first.
    y: {label: null, domain: [...new Set([...data].sort((a, b) => a.perMillion - b.perMillion).map((d) => d.device))]},
    color: {legend: true, domain: ["owned", "on-demand", "spot"], range: ["#3ca951", "#4269d0", "#ff725c"]},
    marks: [Plot.dot(data, {x: "perMillion", y: "device", fill: "pricing", r: 5, tip: true, title: (d) => `${d.device} ${d.pricing}\n$${d.perMillion.toFixed(3)} per 1M tokens\n$${d.perHour.toFixed(3)}/h per GPU at ${d.tps.toFixed(1)} tok/s\n${d.basis}`})],
  });
}

/** Dispatch candidates: cost against duration, one dot each; the top candidate ringed. */
export function CostVsDuration(ranked, {width} = {}) {
  // Fleet dots last, so a fleet device is not hidden under its catalog twin.
  const order = {offer: 0, catalog: 1, fleet: 2};
  const data = ranked.filter((c) => c.cost !== null && Number.isFinite(c.seconds));
  const drawn = [...data].sort((a, b) => order[a.source] - order[b.source]);
  return Plot.plot({
    title: "Candidates: estimated cost against duration",
    width,
    height: 320,
    x: {type: "log", label: "duration (s, log) →", grid: true, nice: true},
    y: {type: "log", label: "↑ cost (USD, log)", grid: true, nice: true, tickFormat: usdLog},
    color: {legend: true, domain: ["fleet", "catalog", "offer"], range: ["#3ca951", "#a463f2", "#4269d0"]},
    marks: [
      Plot.dot(drawn, {x: "seconds", y: "cost", fill: "source", r: (d) => (d.source === "fleet" ? 6 : 4), sort: null, tip: true, title: (d) => `${d.id}\n${d.engine}, ${d.count} GPU(s)\n${d.seconds.toFixed(1)} s, $${d.cost.toFixed(4)}`}),
      Plot.dot(data.slice(0, 1), {x: "seconds", y: "cost", r: 9, stroke: "currentColor", strokeWidth: 2}),
    ],
  });
}

/** Split plan: per device weights | KV | reserved | free (GiB), labelled with its layer range. */
export function SplitMemory(plan, {width} = {}) {
  const rows = [];
  for (const a of plan.assignments) {
    const label = `${a.device} · ${a.layers ? `layers ${a.layerStart}–${a.layerEnd}` : "no layers"}${a.output ? " + output" : ""}`;
    for (const [component, bytes] of [["weights", a.weightsBytes], ["KV cache", a.kvBytes], ["reserved", a.reservedBytes], ["free", Math.max(0, a.capacityBytes - a.memoryBytes)]]) rows.push({label, component, bytes, gib: gib(bytes), cap: gib(a.capacityBytes)});
  }
  return Plot.plot({
    title: "Memory per device in the split (GiB)",
    width,
    height: 60 + 44 * plan.assignments.length,
    marginLeft: 260,
    x: {label: "GiB →", grid: true},
    y: {label: null, domain: [...new Set(rows.map((r) => r.label))]},
    color: {legend: true, domain: ["weights", "KV cache", "reserved", "free"], range: ["#4269d0", "#efb118", "#a463f2", "#9aa5b1"]},
    marks: [Plot.barX(rows, Plot.stackX({x: "gib", y: "label", fill: "component", order: ["weights", "KV cache", "reserved", "free"], tip: true, title: (d) => `${d.label}\n${d.component}: ${d.gib.toFixed(2)} GiB of ${d.cap.toFixed(0)} GiB`}))],
  });
}

/** Query result quick chart: first number column against the first other column (bars) or row index. */
export function QuickChart(result, {width} = {}) {
  const num = result.columns.find((c) => /^(Int|Float|Decimal|Uint)/.test(c.type));
  if (!num) return null;
  const label = result.columns.find((c) => c !== num);
  const rows = result.rows.slice(0, 200).map((r, i) => ({x: label ? String(r[label.name] instanceof Date ? r[label.name].toISOString() : r[label.name]) : String(i), y: Number(r[num.name])}));
  return Plot.plot({
    title: `${num.name}${label ? ` by ${label.name}` : ""} (first ${rows.length} rows)`,
    width,
    height: 280,
    marginBottom: 80,
    x: {label: label?.name ?? "row", tickRotate: -30, type: "band"},
    y: {label: `↑ ${num.name}`, grid: true},
    marks: [Plot.barY(rows, {x: "x", y: "y", fill: "#4269d0", tip: true, title: (d) => `${d.x}: ${d.y.toLocaleString("en-US")}`}), Plot.ruleY([0])],
  });
}
