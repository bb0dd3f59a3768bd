// hwledger report: a model's capacity report (what the published /reports/<slug> pages show), as JSON or Markdown.
import type { Command } from "commander";
import { catalogDevices, engineDevice } from "../../lib/fleet/devices.js";
import { capacityReport } from "../../lib/fleet/report.js";
import { DEFAULT_ENGINE, ENGINES, parseEngine } from "../../plugins/engines.js";
import { formatBytes, formatCount, printJson, printLines } from "../output.js";
import { addModelOptions, loadModel } from "./shared.js";

export function registerReport(program: Command): void {
  const cmd = program.command("report").description("capacity report of one model: verdict, memory per weight scheme × context, the context each device fits");
  addModelOptions(cmd)
    .option("--engine <engine>", "engine whose accounting the device fits use (schemes only one engine loads use it: GGUF → llama.cpp, MLX → MLX)", DEFAULT_ENGINE)
    .option("--no-evidence", "leave out the held-out evidence error of the model's architecture class (faster)")
    .option("--json", "print one JSON document on stdout")
    .action(async (flags: { model?: string; gguf?: string; engine: string; evidence: boolean; json?: boolean }) => {
      const { model } = await loadModel(flags);
      const engine = parseEngine(flags.engine);
      // The same devices the pages use: every catalog GPU as its runtime reports it.
      const devices = catalogDevices().map((d) => ({ ...engineDevice(d.id), category: d.category }));
      let evidence;
      if (flags.evidence) {
        const { evidenceRows, loadEvidence } = await import("../../loaders/evidence/index.js");
        evidence = await evidenceRows(loadEvidence());
      }
      const r = capacityReport(model, devices, ENGINES, engine.id, evidence);
      if (flags.json) return printJson(r);
      const lines = [
        `# ${r.model}`,
        "",
        `**${r.verdict}**`,
        "",
        `${r.family} (${r.modelType}, ${r.architectureClass}); layers: ${Object.entries(r.layers).map(([k, n]) => `${n} ${k}`).join(", ")}; max context ${r.maxContext}`,
        `parameters: ${formatCount(r.params.total)} resident, ${formatCount(r.params.active)} active, ${formatCount(r.params.embedding)} embedding`,
        ...(r.evidence ? [`evidence: ${r.evidence.engine} on ${r.evidence.architecture} models, held-out: median ${r.evidence.medianAbsPct.toFixed(1)}% error, max ${r.evidence.maxAbsPct.toFixed(1)}% (${r.evidence.figures} figures, ${r.evidence.cases} cases)`] : []),
        "",
        `| weights | engine | ${r.contexts.map((c) => `${c} tokens`).join(" | ")} |`,
        `| --- | --- | ${r.contexts.map(() => "---").join(" | ")} |`,
        ...r.memory.map((m) => `| ${m.weights} | ${m.engine} | ${m.totalBytes.map((b) => (b === null ? "n/a" : formatBytes(b))).join(" | ")} |`),
        "",
        `| device | memory | max context (native weights, ${r.engine}) | KV capacity |`,
        "| --- | --- | --- | --- |",
        ...r.fits.map((f) => `| ${f.name} | ${formatBytes(f.memoryBytes)} | ${f.maxContext ? f.maxContext : "does not fit"} | ${f.kvCapacityTokens} |`),
      ];
      printLines(lines);
    });
}
