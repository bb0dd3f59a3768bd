// hwledger report: a model's capacity report (what the published /reports/<slug> pages show), as JSON or Markdown.
import type { Command } from "commander";
import { parseEngine } from "../../lib/calc/index.js";
import { catalogDevices } from "../../lib/fleet/devices.js";
import { capacityReport } from "../../lib/fleet/report.js";
import { formatBytes, formatCount, printJson, printLines } from "../output.js";
import { addModelOptions, loadModel } from "./shared.js";

const SCHEMES = ["bf16", "fp8", "awq", "Q8_0", "Q4_K_M"];

export function registerReport(program: Command): void {
  const cmd = program.command("report").description("capacity report of one model: parameters, memory per quantization × context, devices that fit");
  addModelOptions(cmd)
    .option("--engine <engine>", "engine whose accounting the report uses", "vllm")
    .option("--json", "print one JSON document on stdout")
    .action(async (flags: { model?: string; gguf?: string; engine: string; json?: boolean }) => {
      const { model } = await loadModel(flags);
      const r = capacityReport(model, catalogDevices(), parseEngine(flags.engine), SCHEMES);
      if (flags.json) return printJson(r);
      const lines = [
        `# ${r.model}`,
        "",
        `${r.family} (${r.modelType}); layers: ${Object.entries(r.layers).map(([k, n]) => `${n} ${k}`).join(", ")}`,
        `parameters: ${formatCount(r.params.total)} resident, ${formatCount(r.params.active)} active, ${formatCount(r.params.embedding)} embedding`,
        "",
        `| weights (${r.engine}, one sequence) | ${r.contexts.map((c) => `${c} tokens`).join(" | ")} |`,
        `| --- | ${r.contexts.map(() => "---").join(" | ")} |`,
        ...r.memory.map((m) => `| ${m.weights} | ${m.totalBytes.map((b) => (b === null ? "n/a" : formatBytes(b))).join(" | ")} |`),
        "",
        "| device | max context (native weights) |",
        "| --- | --- |",
        ...r.fits.map((f) => `| ${f.name} | ${f.maxContext ? f.maxContext : "does not fit"} |`),
      ];
      printLines(lines);
    });
}
