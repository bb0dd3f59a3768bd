// The what-if page's charts, drawn as plain HTML and SVG: no Plot and no d3, so /what-if loads little JavaScript and
// a slider move redraws within one frame. Titles, units (GiB) and tooltips on all.
import {gaugeLevel} from "./whatif.js";

const GIB = 1024 ** 3;
const gib = (b) => b / GIB;
const fmt = (b) => `${gib(b).toFixed(2)} GiB`;

/** d3's Blues ramp (interpolateBlues) at its nine scheme stops, interpolated linearly in RGB: t in [0, 1]. */
const BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"].map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
export function blues(t) {
  const x = Math.max(0, Math.min(1, t)) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(x));
  const f = x - i;
  const c = BLUES[i].map((v, k) => Math.round(v + (BLUES[i + 1][k] - v) * f));
  return `rgb(${c.join(",")})`;
}

export const COMPONENT_COLORS = {
  domain: ["weights", "KV cache", "activations", "overhead", "free"],
  range: ["#4269d0", "#efb118", "#ff725c", "#a463f2", "#9aa5b1"],
};

/**
 * Stacked bar per device: weights | KV | activations | overhead | free, against the device's memory (per GPU). Plain
 * HTML bars on one shared GiB scale (no Plot scales to compute), so it redraws within a slider frame; the device's
 * memory is the black tick, anything past it overflows the track in red.
 */
export function StackedBar(whatIf, {width} = {}) {
  const p = whatIf.perRank;
  const root = document.createElement("figure");
  root.className = "hw-bars";
  if (width) root.style.maxWidth = `${width}px`;
  const scaleMax = Math.max(...whatIf.fits.map((f) => Math.max(f.device.memoryBytes, p.totalBytes)));
  const pct = (b) => `${((100 * b) / scaleMax).toFixed(3)}%`;
  const legend = COMPONENT_COLORS.domain.map((c, i) => `<span><i style="background:${COMPONENT_COLORS.range[i]}"></i>${c}</span>`).join("");
  const rows = whatIf.fits.map((f) => {
    const parts = [["weights", p.weightsBytes], ["KV cache", p.kvCacheBytes], ["activations", p.activationBytes], ["overhead", p.overheadBytes], ["free", Math.max(0, f.device.memoryBytes - p.totalBytes)]];
    const segs = parts.map(([c, b]) => `<span class="hw-seg" style="width:${pct(b)};background:${COMPONENT_COLORS.range[COMPONENT_COLORS.domain.indexOf(c)]}" title="${c}: ${fmt(b)}"></span>`).join("");
    const over = p.totalBytes > f.device.memoryBytes;
    return `<div class="hw-bars-row${over ? " hw-over" : ""}" data-device="${f.device.id}"><span class="hw-bars-label" title="${(f.device.catalogName ?? f.device.name)}">${(f.device.catalogName ?? f.device.name)}</span><span class="hw-bars-track">${segs}<span class="hw-bars-limit" style="left:${pct(f.device.memoryBytes)}" title="device memory ${fmt(f.device.memoryBytes)}"></span></span><span class="hw-bars-value">${gib(p.totalBytes).toFixed(1)} / ${gib(f.device.memoryBytes).toFixed(1)} GiB</span></div>`;
  });
  root.innerHTML = `<h2>Memory per GPU against device memory (GiB)</h2><div class="hw-bars-legend">${legend}<span><i class="hw-tick"></i>device memory</span></div>${rows.join("")}`;
  return root;
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
    row.title = `${(f.device.catalogName ?? f.device.name)}: ${pct.toFixed(1)}% (${fmt(f.needBytes)} of ${fmt(f.device.memoryBytes)} per GPU)`;
    const label = document.createElement("span");
    label.className = "hw-gauge-label";
    label.textContent = (f.device.catalogName ?? f.device.name);
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
  const color = (b) => (b > 0 ? blues(0.08 + 0.92 * Math.sqrt(b / max)) : "transparent");
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
  legend.innerHTML = `<span>0</span><span class="hw-hm-ramp" style="background:linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map((t) => blues(0.08 + 0.92 * t)).join(",")})"></span><span>${gib(max).toFixed(3)} GiB (sqrt scale)</span>`;
  root.append(h, legend, grid);
  return root;
}

/** Nice ticks of a log axis between lo and hi: powers of two for contexts, 1-2-5 steps for GiB. */
function logTicks(lo, hi, base2) {
  const out = [];
  if (base2) for (let v = 2 ** Math.ceil(Math.log2(lo)); v <= hi; v *= 4) out.push(v);
  else for (let e = Math.floor(Math.log10(lo)); 10 ** e <= hi; e++) for (const m of [1, 2, 5]) if (m * 10 ** e >= lo && m * 10 ** e <= hi) out.push(m * 10 ** e);
  return out;
}
const tokens = (n) => (n >= 1024 ? `${Math.round(n / 1024)}k` : String(n));

/**
 * KV cache and total per GPU against context (log–log), each device's memory a dashed limit. The chosen context is a
 * marker moved by `chart.setContext(n)` without redrawing the chart (the slider moves it often).
 */
export function KvGrowth(rows, devices, {width = 640, context} = {}) {
  const height = 320;
  const m = {top: 40, right: 16, bottom: 40, left: 56};
  const series = [["KV cache", "#efb118"], ["total", "#4269d0"]];
  const xs = rows.map((d) => d.context);
  const ys = [...rows.map((d) => gib(d.bytes)), ...devices.map((d) => gib(d.memoryBytes))].filter((v) => v > 0);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys) / 1.2, Math.max(...ys) * 1.2];
  const X = (v) => m.left + ((Math.log(v) - Math.log(x0)) / (Math.log(x1) - Math.log(x0) || 1)) * (width - m.left - m.right);
  const Y = (v) => height - m.bottom - ((Math.log(v) - Math.log(y0)) / (Math.log(y1) - Math.log(y0) || 1)) * (height - m.top - m.bottom);
  const ns = "http://www.w3.org/2000/svg";
  const parts = [];
  for (const t of logTicks(x0, x1, true)) parts.push(`<line x1="${X(t)}" x2="${X(t)}" y1="${m.top}" y2="${height - m.bottom}" class="hw-grid"/><text x="${X(t)}" y="${height - m.bottom + 14}" text-anchor="middle">${tokens(t)}</text>`);
  for (const t of logTicks(y0, y1, false)) parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${Y(t)}" y2="${Y(t)}" class="hw-grid"/><text x="${m.left - 6}" y="${Y(t) + 3}" text-anchor="end">${t}</text>`);
  parts.push(`<text x="${width - m.right}" y="${height - 6}" text-anchor="end">context per sequence (tokens, log) →</text><text x="${m.left - 6}" y="${m.top - 8}" text-anchor="start">↑ GiB per GPU (log)</text>`);
  for (const [name, color] of series) {
    const pts = rows.filter((d) => d.series === name && d.bytes > 0);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((d) => `${X(d.context).toFixed(1)},${Y(gib(d.bytes)).toFixed(1)}`).join(" ")}"><title>${name}: ${fmt(pts[0]?.bytes ?? 0)} at ${tokens(pts[0]?.context ?? 0)} to ${fmt(pts.at(-1)?.bytes ?? 0)} at ${tokens(pts.at(-1)?.context ?? 0)} tokens</title></polyline>`);
  }
  for (const d of devices) {
    const y = Y(gib(d.memoryBytes));
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y}" y2="${y}" stroke="#e1372b" stroke-dasharray="4,3"/><text x="${m.left + 4}" y="${y - 4}" fill="#e1372b">${d.name} (${fmt(d.memoryBytes)})</text>`);
  }
  const fig = document.createElement("figure");
  fig.className = "hw-kv";
  fig.innerHTML = `<h2>KV cache and total per GPU against context</h2><div class="hw-bars-legend">${series.map(([n, c]) => `<span><i style="background:${c}"></i>${n}</span>`).join("")}<span><i style="background:#e1372b"></i>device memory</span></div>
<svg xmlns="${ns}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="10" fill="currentColor">${parts.join("")}<line class="hw-context-marker" stroke="currentColor" stroke-opacity="0.6" y1="${m.top}" y2="${height - m.bottom}"/></svg>`;
  const marker = fig.querySelector(".hw-context-marker");
  fig.setContext = (n) => {
    const px = X(Math.max(x0, Math.min(x1, n)));
    marker.setAttribute("x1", px);
    marker.setAttribute("x2", px);
    marker.dataset.context = n;
  };
  if (context) fig.setContext(context);
  return fig;
}
