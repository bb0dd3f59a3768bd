// Capacity views shared by the pages (fit matrix, reports): which devices a grid shows and in what order, and how a
// capacity is labelled and coloured. The figures themselves come from lib/calc deviceCapacity (as `hwledger fit`).
import type { DeviceLite } from "./whatif.js";

/** Device classes in the order a reader looks for them: the cards people own first, rented datacenter parts last. */
const CLASS_ORDER = ["nvidia-consumer", "apple-silicon", "amd-consumer", "intel-consumer", "apu", "nvidia-workstation", "intel-workstation", "nvidia-datacenter", "amd-datacenter", "cpu"];

export interface MatrixColumn {
  /** The device asked (every device of a column has the same memory and class, so the same answer). */
  device: DeviceLite;
  label: string;
  /** Every catalog device the column stands for. */
  members: string[];
}

/** Apple sells unified memory in GiB-sized "GB" (8 GB = 2^33 bytes). */
const GIB = 1024 ** 3;

/**
 * Columns of a device grid: one per device, except Apple Silicon, whose 74 chip variants collapse to one column per
 * unified-memory size (the engines see only the memory, so chips of one size get one answer).
 */
export function matrixColumns(devices: DeviceLite[]): MatrixColumn[] {
  const rank = (c: string) => (CLASS_ORDER.indexOf(c) + 1 || CLASS_ORDER.length + 1);
  const sorted = [...devices].sort((a, b) => rank(a.category) - rank(b.category) || (a.category === "apple-silicon" ? a.memoryBytes - b.memoryBytes : b.memoryBytes - a.memoryBytes));
  const out: MatrixColumn[] = [];
  const apple = new Map<number, MatrixColumn>();
  for (const d of sorted) {
    if (d.category !== "apple-silicon") {
      out.push({ device: d, label: d.id, members: [d.id] });
      continue;
    }
    const col = apple.get(d.memoryBytes);
    if (col) col.members.push(d.id);
    else {
      const c = { device: d, label: `apple ${Math.round(d.memoryBytes / GIB)} GB`, members: [d.id] };
      apple.set(d.memoryBytes, c);
      out.push(c);
    }
  }
  return out;
}

/** A token count in a few characters: 131072 → "128k", 43360 → "42k", 2800 → "2.7k", 512 → "512". */
export function shortTokens(n: number): string {
  if (n < 1000) return String(n);
  const k = n / 1024;
  return k < 10 ? `${k.toFixed(1)}k` : `${Math.floor(k)}k`;
}

/** Heat-map fill for a share of the model's native context: none → faint, then a light-to-dark blue-green ramp. */
export function shareColour(share: number): string {
  if (!(share > 0)) return "transparent";
  const s = Math.min(1, share);
  // Lightness falls with the share; hue moves from amber (little) to green-teal (whole context).
  return `hsl(${Math.round(40 + 130 * s)} 65% ${Math.round(72 - 34 * s)}%)`;
}
