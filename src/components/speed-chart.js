// Predicted against measured tokens/s of published speed results, one dot per figure (log scales): colour = device
// class, filled = held-out, hollow = derived (the fit's own cases); the diagonal is a perfect prediction, the band ±20%.
import * as Plot from "@observablehq/plot";

export const SPEED_CLASSES = {
  domain: ["NVIDIA consumer", "NVIDIA datacenter", "AMD", "Apple", "Intel"],
  range: ["#3ca951", "#4269d0", "#e1372b", "#a463f2", "#efb118"],
};

/** `rows`: evidence rows of speed figures with a prediction ({reported, predicted, deviceClass, set, quantity, …}). */
export function SpeedChart(rows, {width} = {}) {
  const lo = Math.min(...rows.map((r) => Math.min(r.reported, r.predicted))) / 1.5;
  const hi = Math.max(...rows.map((r) => Math.max(r.reported, r.predicted))) * 1.5;
  const diagonal = [lo, hi].map((x) => ({x}));
  const figure = (d) => `${d.quantity === "decodeTps" ? "decode" : "prefill"} ${d.figure}`;
  return Plot.plot({
    title: "Speed: predicted against measured tokens/s (log scales)",
    width,
    height: Math.min(640, Math.max(360, (width ?? 640) * 0.7)),
    x: {type: "log", domain: [lo, hi], label: "measured t/s →", grid: true},
    y: {type: "log", domain: [lo, hi], label: "↑ predicted t/s", grid: true},
    color: {...SPEED_CLASSES, legend: true},
    symbol: {domain: ["decodeTps", "prefillTps"], range: ["circle", "triangle"]},
    marks: [
      Plot.areaY(diagonal, {x: "x", y1: (d) => d.x / 1.2, y2: (d) => d.x * 1.2, fill: "currentColor", fillOpacity: 0.07}),
      Plot.line(diagonal, {x: "x", y: "x", stroke: "currentColor", strokeOpacity: 0.5}),
      // Derived results hollow, held-out filled (a fill channel cannot mix a colour scale with "none").
      ...["derived", "held-out"].map((set) =>
        Plot.dot(rows.filter((d) => d.set === set), {
          x: "reported",
          y: "predicted",
          stroke: "deviceClass",
          ...(set === "held-out" ? {fill: "deviceClass"} : {}),
          symbol: "quantity",
          r: 3,
          tip: true,
          title: (d) => `${d.hardware} · ${d.model} · ${figure(d)} (${d.set})\nmeasured ${d.reported.toFixed(1)} t/s, predicted ${d.predicted.toFixed(1)} t/s (${d.errorPct >= 0 ? "+" : ""}${d.errorPct.toFixed(1)}%)\n${d.source.url}`,
        }),
      ),
    ],
  });
}
