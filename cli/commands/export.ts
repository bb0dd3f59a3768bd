// hwledger export: copy-ready launch commands that reproduce a plan in each engine, built by the engine plugins
// (the same argument builders `hwledger run` launches with).
import type { Command } from "commander";
import { InputError, nativeWeights } from "../../lib/calc/index.js";
import type { Deployment, EngineId } from "../../lib/calc/index.js";
import { buildLlamaServerArgs } from "../../plugins/engine-llamacpp/index.js";
import { buildMlxServerArgs } from "../../plugins/engine-mlx/index.js";
import { buildVllmServeArgs } from "../../plugins/engine-vllm/index.js";
import { printJson, printLines, progress } from "../output.js";
import { addDeploymentOptions, deploymentFromFlags, loadModel } from "./shared.js";
import type { DeploymentFlags } from "./shared.js";

export interface ExportedCommand {
  engine: string;
  argv: string[];
  /** Shell-quoted, for copying. */
  command: string;
  note?: string;
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** One command per engine that can run this deployment; an engine that cannot says why. */
export function exportCommands(modelId: string, dep: Deployment, ggufPath?: string): { commands: ExportedCommand[]; skipped: Array<{ engine: string; reason: string }> } {
  const commands: ExportedCommand[] = [];
  const skipped: Array<{ engine: string; reason: string }> = [];
  const attempt = (engine: EngineId | "ollama", build: () => ExportedCommand) => {
    try {
      commands.push(build());
    } catch (e) {
      skipped.push({ engine, reason: (e as Error).message });
    }
  };
  const gguf = ggufPath ?? `${modelId.split("/").pop()}-${dep.weights}.gguf`;
  attempt("vllm", () => {
    // --seqs sequences served together: vLLM's --max-num-seqs.
    const options = dep.seqs > 1 ? { ...dep.options, maxNumSeqs: dep.options?.maxNumSeqs ?? dep.seqs } : dep.options;
    const argv = ["vllm", ...buildVllmServeArgs(modelId, { ...dep, engine: "vllm", options })];
    return { engine: "vllm", argv, command: argv.map(quote).join(" ") };
  });
  attempt("llama.cpp", () => {
    const argv = ["llama-server", ...buildLlamaServerArgs({ model: gguf, context: dep.context, seqs: dep.seqs, kvDtypeK: dep.kvDtypeK, kvDtypeV: dep.kvDtypeV, gpuLayers: 999, flashAttention: dep.kvDtypeV !== "f16" ? true : undefined })];
    return { engine: "llama.cpp", argv, command: argv.map(quote).join(" ") };
  });
  // Ollama: num_ctx is per slot and OLLAMA_NUM_PARALLEL slots each get it (ollama server/sched.go).
  attempt("ollama", () => {
    const argv = ["env", `OLLAMA_NUM_PARALLEL=${dep.seqs}`, "ollama", "serve"];
    return { engine: "ollama", argv, command: argv.join(" "), note: `Modelfile: PARAMETER num_ctx ${dep.context}` };
  });
  attempt("mlx", () => {
    const argv = buildMlxServerArgs(modelId, { ...dep, engine: "mlx", tp: 1, pp: 1 });
    return { engine: "mlx", argv, command: argv.map(quote).join(" ") };
  });
  return { commands, skipped };
}

interface ExportFlags extends DeploymentFlags {
  only?: boolean;
}

export function registerExport(program: Command): void {
  const cmd = program.command("export").description("launch commands reproducing a plan: vllm serve, llama-server, Ollama, mlx_lm.server");
  addDeploymentOptions(cmd, true, "vllm")
    .option("--only", "only the engine given by --engine")
    .action(async (flags: ExportFlags) => {
      const { model } = await loadModel(flags);
      const dep = deploymentFromFlags(model, { ...flags, weights: flags.weights ?? nativeWeights(model) }, flags.context!);
      const r = exportCommands(model.id, dep, flags.gguf);
      const commands = flags.only ? r.commands.filter((c) => c.engine === dep.engine) : r.commands;
      if (flags.only && !commands.length) throw new InputError(r.skipped.find((s) => s.engine === dep.engine)?.reason ?? `no command for ${dep.engine}`);
      if (flags.json) return printJson({ model: model.id, deployment: dep, commands, skipped: flags.only ? [] : r.skipped });
      for (const s of flags.only ? [] : r.skipped) progress(`${s.engine}: not exported: ${s.reason}`);
      printLines(commands.flatMap((c) => [`# ${c.engine}${c.note ? ` (${c.note})` : ""}`, c.command]));
    });
}
