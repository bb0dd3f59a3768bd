// hwledger export: copy-ready launch commands that reproduce a plan in each engine, built by the engine plugins
// (the same builders `hwledger run` launches with and the /what-if page shows).
import type { Command } from "commander";
import { InputError, nativeWeights } from "../../lib/calc/index.js";
import { DEFAULT_ENGINE, exportCommands } from "../../plugins/engines.js";
import { printJson, printLines, progress } from "../output.js";
import { addDeploymentOptions, deploymentFromFlags, loadModel } from "./shared.js";
import type { DeploymentFlags } from "./shared.js";

interface ExportFlags extends DeploymentFlags {
  only?: boolean;
}

export function registerExport(program: Command): void {
  const cmd = program.command("export").description("launch commands reproducing a plan: vllm serve, llama-server, Ollama (environment and Modelfile), mlx_lm.server");
  addDeploymentOptions(cmd, true, DEFAULT_ENGINE)
    .option("--only", "only the engine given by --engine")
    .action(async (flags: ExportFlags) => {
      const { model } = await loadModel(flags);
      const dep = deploymentFromFlags(model, { ...flags, weights: flags.weights ?? nativeWeights(model) }, flags.context!);
      const r = exportCommands(model.id, dep, flags.gguf);
      const commands = flags.only ? r.commands.filter((c) => c.engine === dep.engine) : r.commands;
      if (flags.only && !commands.length) throw new InputError(r.skipped.find((s) => s.engine === dep.engine)?.reason ?? `no command for ${dep.engine}`);
      if (flags.json) return printJson({ model: model.id, deployment: dep, commands, skipped: flags.only ? [] : r.skipped });
      for (const s of flags.only ? [] : r.skipped) progress(`${s.engine}: not exported: ${s.reason}`);
      // A command that reads a file (an Ollama Modelfile) is preceded by a heredoc writing it.
      const fileLines = (f?: { name: string; text: string }) => (f ? [`cat > ${f.name} <<'EOF'`, ...f.text.trimEnd().split("\n"), "EOF"] : []);
      printLines(commands.flatMap((c) => [`# ${c.engine}${c.note ? ` (${c.note})` : ""}`, ...fileLines(c.file), c.command]));
    });
}
