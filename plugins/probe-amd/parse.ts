// Pure parsers for AMD GPUs. rocm-smi prints the same "key: value" pairs in its text report (`rocm-smi -a`,
// lines "GPU[0]\t\t: Key: value") and in `--json` ({"card0": {"Key": "value"}, "system": {...}}; rocm_smi.py
// stores each printed pair in its JSON dict), so both become one key/value map per card, read by one extractor.
// amd-smi (ROCm 6+) `static --json` / `metric --json` are lists of {gpu, <group>: {<field>: {value, unit}}}.
import type { GpuReading } from "../manifest.js";
import { compact, num } from "../probe-util.js";

export interface RocmSmiReport {
  cards: Map<number, Record<string, string>>;
  system: Record<string, string>;
}

/** `rocm-smi -a` (or any subset of --show* flags) in text form. */
export function parseRocmSmiText(text: string): RocmSmiReport {
  const cards = new Map<number, Record<string, string>>();
  const system: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const g = /^(?:GPU|card)\[(\d+)\]\s*:\s*(.*)$/.exec(line);
    if (g) {
      const kv = /^(.+?):\s+(.*)$/.exec(g[2]);
      if (!kv) continue;
      const card = cards.get(Number(g[1])) ?? {};
      if (!(kv[1] in card)) card[kv[1].trim()] = kv[2].trim();
      cards.set(Number(g[1]), card);
    } else if (!line.startsWith("=")) {
      const kv = /^([A-Za-z][^:]*):\s+(.*)$/.exec(line);
      if (kv) system[kv[1].trim()] = kv[2].trim();
    }
  }
  return { cards, system };
}

/** `rocm-smi … --json`. */
export function parseRocmSmiJson(text: string): RocmSmiReport {
  const doc = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const cards = new Map<number, Record<string, string>>();
  let system: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc)) {
    const m = /^card(\d+)$/.exec(k);
    const flat = Object.fromEntries(Object.entries(v ?? {}).map(([a, b]) => [a, String(b)]));
    if (m) cards.set(Number(m[1]), flat);
    else if (k === "system") system = flat;
  }
  return { cards, system };
}

/** First value among keys, matched case-insensitively (rocm-smi versions differ: "Card series"/"Card Series"). */
function pick(rec: Record<string, string>, ...keys: string[]): string | undefined {
  const lower = new Map(Object.entries(rec).map(([k, v]) => [k.toLowerCase(), v]));
  for (const k of keys) {
    const v = lower.get(k.toLowerCase());
    if (v !== undefined && v !== "" && !/^(N\/A|Not supported)/i.test(v)) return v;
  }
  return undefined;
}

export function rocmSmiGpus(report: RocmSmiReport): GpuReading[] {
  const driver = pick(report.system, "Driver version");
  return [...report.cards.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([index, c]) =>
      compact({
        vendor: "amd" as const,
        index,
        name: pick(c, "Card series", "Device Name", "Card SKU", "Card model") ?? "AMD GPU",
        uuid: pick(c, "Unique ID", "GUID"),
        busId: pick(c, "PCI Bus"),
        driver,
        memoryTotalBytes: num(pick(c, "VRAM Total Memory (B)")),
        memoryUsedBytes: num(pick(c, "VRAM Total Used Memory (B)")),
        utilizationPct: num(pick(c, "GPU use (%)")),
        powerW: num(pick(c, "Current Socket Graphics Package Power (W)", "Average Graphics Package Power (W)")),
        powerLimitW: num(pick(c, "Max Graphics Package Power (W)")),
        temperatureC: num(pick(c, "Temperature (Sensor junction) (C)", "Temperature (Sensor edge) (C)")),
      }),
    );
}

type AmdValue = { value?: unknown; unit?: string } | string | number | undefined;

/** amd-smi values are {value, unit} objects (or "N/A"); memory units MB/GB are binary in amd-smi's output. */
function amdNum(v: AmdValue, toBytes = false): number | undefined {
  const value = typeof v === "object" && v !== null ? v.value : v;
  const unit = typeof v === "object" && v !== null ? (v.unit ?? "") : typeof v === "string" ? (v.split(/\s+/)[1] ?? "") : "";
  const n = num(value as string | number);
  if (n === undefined || !toBytes) return n;
  const pow = ({ B: 0, KB: 1, MB: 2, GB: 3 } as Record<string, number>)[unit.toUpperCase()] ?? 2;
  return Math.round(n * 1024 ** pow);
}

/** `amd-smi static --json` + `amd-smi metric --json` (lists, or {"gpu_data": [...]} in newer releases). */
export function amdSmiGpus(staticText: string, metricText?: string): GpuReading[] {
  const list = (t: string): any[] => {
    const d = JSON.parse(t);
    return Array.isArray(d) ? d : Array.isArray(d?.gpu_data) ? d.gpu_data : [];
  };
  const metrics = new Map<number, any>((metricText ? list(metricText) : []).map((m) => [Number(m.gpu), m]));
  return list(staticText).map((s, i) => {
    const index = Number(s.gpu ?? i);
    const m = metrics.get(index) ?? {};
    return compact({
      vendor: "amd" as const,
      index,
      name: String(s.asic?.market_name ?? s.board?.product_name ?? "AMD GPU"),
      uuid: s.asic?.asic_serial ?? undefined,
      busId: s.bus?.bdf ?? undefined,
      driver: s.driver?.version ?? undefined,
      memoryTotalBytes: amdNum(m.mem_usage?.total_vram, true) ?? amdNum(s.vram?.size, true),
      memoryUsedBytes: amdNum(m.mem_usage?.used_vram, true),
      utilizationPct: amdNum(m.usage?.gfx_activity),
      powerW: amdNum(m.power?.socket_power),
      powerLimitW: amdNum(s.limit?.max_power),
      temperatureC: amdNum(m.temperature?.hotspot) ?? amdNum(m.temperature?.edge),
    });
  });
}

/**
 * `rocm-smi` with no flags (the "Concise Info" table): per GPU a data row (device, [model : rev], Temp, Power,
 * Partitions, SCLK, MCLK, Fan, Perf, PwrCap, VRAM%, GPU%) and, on newer releases, a second row with the name.
 * Memory is only a percentage there, so no bytes come out of it; the --json path gives bytes.
 */
export function parseRocmSmiConcise(text: string): GpuReading[] {
  const lines = text.split(/\r?\n/);
  const out: GpuReading[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\d+)\s+(\[[^\]]*\]\s+)?(\S+)°C\s+(\S+)W\s+.*?\s(\S+)W\s+(\S+)%\s+(\S+)%\s*$/.exec(lines[i]);
    if (!m) continue;
    const next = lines[i + 1] ?? "";
    const name = /^\s{4,}(\S.*?)\s*$/.test(next) && !/^\s*=/.test(next) ? next.trim() : "AMD GPU";
    out.push(
      compact({
        vendor: "amd" as const,
        index: Number(m[1]),
        name,
        temperatureC: num(m[3]),
        powerW: num(m[4]),
        powerLimitW: num(m[5]),
        utilizationPct: num(m[7]),
      }),
    );
  }
  return out;
}
