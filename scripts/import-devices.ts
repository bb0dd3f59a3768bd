// One-off import: /work/shared/data/device-specs.json (with per-field sources) -> data/devices/devices.json.
// Gives each part a short stable id and splits Apple chips into their sold memory sizes (apple-memory.json).
// Re-run only when the upstream table changes: `npx tsx scripts/import-devices.ts <device-specs.json>`.
import { readFileSync, writeFileSync } from "node:fs";

const src = process.argv[2] ?? "/work/shared/data/device-specs.json";
const out = new URL("../data/devices/", import.meta.url);
const upstream = JSON.parse(readFileSync(src, "utf8")) as { devices: any[] };
const apple = JSON.parse(readFileSync(new URL("apple-memory.json", out), "utf8")) as { source: string; caveat: string; chips: Record<string, number[]> };

// Explicit ids where the name does not slug cleanly; the rest follow slug(name).
const IDS: Record<string, string> = {
  "NVIDIA H200 SXM (141GB)": "h200-sxm-141gb",
  "NVIDIA A100 40GB (SXM4)": "a100-sxm4-40gb",
  "NVIDIA A10G (AWS)": "a10g",
  "NVIDIA RTX 6000 Ada Generation": "rtx-6000-ada",
  "NVIDIA GeForce RTX 3080 (10GB)": "rtx-3080-10gb",
  "AMD Ryzen AI Max+ 395 (Strix Halo, Radeon 8060S)": "ryzen-ai-max-395",
  "AMD EPYC 9654 (96C, 12-ch DDR5)": "epyc-9654",
};

function slug(name: string): string {
  return name
    .replace(/^(NVIDIA|AMD|Intel|Apple)\s+/, "")
    .replace(/\b(GeForce|Instinct|Radeon|Core)\s+/g, "")
    .toLowerCase()
    .replace(/\((\d+)-core gpu\)/, "$1c")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

const rows: any[] = [];
for (const d of upstream.devices) {
  const base = {
    name: d.name,
    category: d.category,
    memoryGb: d.memory_gb,
    memBwGbps: d.mem_bw_gbps,
    fp16Tflops: d.fp16_bf16_dense_tflops,
    fp8Tflops: d.fp8_dense_tflops,
    int8Tops: d.int8_dense_tops,
    tdpW: d.tdp_w,
    gpuCores: d.gpu_cores,
    extra: d.extra ?? {},
    sources: d.sources ?? {},
    conflicts: d.conflicts ?? [],
    notes: d.notes ?? null,
  };
  const id = IDS[d.name] ?? slug(d.name);
  if (d.category === "apple-silicon") {
    const chip = d.name.replace(/^Apple /, "").replace(/ \(.*$/, "");
    const sizes = apple.chips[chip];
    if (!sizes) throw new Error(`no memory sizes for ${chip}`);
    for (const gb of sizes) {
      if (d.memory_gb !== null && gb > d.memory_gb) continue; // never above the cited maximum
      rows.push({
        ...base,
        id: `${id}-${gb}gb`,
        name: `${d.name} ${gb}GB`,
        memoryGb: gb,
        maxMemoryGb: d.memory_gb,
        sources: { ...base.sources, memory_gb: `${apple.source}${d.memory_gb !== null ? `; maximum ${d.memory_gb} GB: ${base.sources.memory_gb ?? "device-specs.json"}` : ""}` },
      });
    }
    continue;
  }
  rows.push({ ...base, id });
}
const ids = new Set<string>();
for (const r of rows) {
  if (ids.has(r.id)) throw new Error(`duplicate id ${r.id}`);
  ids.add(r.id);
}
// The speed model's figures live beside this table (compute.json, scripts/import-device-compute.ts): every id needs one.
const compute = JSON.parse(readFileSync(new URL("compute.json", out), "utf8")) as { devices: Record<string, unknown> };
const without = [...ids].filter((id) => !compute.devices[id]);
if (without.length) console.warn(`compute.json has no figures for ${without.join(", ")}: run scripts/import-device-compute.ts`);
writeFileSync(new URL("devices.json", out), JSON.stringify({ schema: (upstream as any).schema, imported_from: "device-specs.json (hwledger shared data), see device-specs.md", devices: rows }, null, 1) + "\n");
console.log(`${rows.length} devices`);
