// hwledger run: plan a deployment, run it on a real engine (local or ssh://), record prediction and actual.
import type { Command } from "commander";
import { HostUnreachable, InputError, RuntimeFailure } from "../../collector/errors.js";
import { formatBytes, printJson, printLines } from "../output.js";
import { addModelOptions, deploymentFromFlags, flagValue, ledgerDirFlag, loadModel, optFlag } from "./shared.js";
import type { DeploymentFlags } from "./shared.js";

export interface RunFlags extends DeploymentFlags {
  host?: string;
  prompt?: string;
  promptTokens?: string;
  gen: string;
  binary?: string;
  llamaServer?: string;
  ledger?: string;
  sampleInterval: string;
  trustHostKey?: boolean;
}

export function registerRun(program: Command): void {
  const cmd = program.command("run").description("run a model on a real engine and record predicted vs actual memory and speed");
  addModelOptions(cmd)
    .requiredOption("--engine <engine>", "an engine hwledger can launch (llama.cpp, vllm, mlx)")
    .option("--host <ssh://user@host[:port]>", "run on a remote host over SSH (default: this machine)")
    .option("--trust-host-key", "accept an unknown or changed SSH host key and record it in known_hosts")
    .option("--context <n>", "tokens per sequence", "4096")
    .option("--seqs <n>", "parallel sequences", "1")
    .option("--kv-dtype <t|k,v>", "KV cache dtype for K and V, or K,V (f16, q8_0, q4_0, …)")
    .option("--weights <dtype|quant>", "weight dtype or quantization (from the GGUF header when --gguf)")
    .option("--prompt <text>", "prompt text")
    .option("--prompt-tokens <n>", "a synthetic prompt of N tokens (instead of --prompt)")
    .option("--gen <n>", "tokens to generate", "16")
    .option("--binary <path>", "the engine's executable (default: its binary on PATH; llama.cpp falls back to the embedded llama.cpp)")
    .option("--llama-server <path>", "the same as --binary, for llama.cpp's llama-server")
    .option("--ledger <dir>", "ledger directory (default: $HWLEDGER_LEDGER or ~/.local/share/hwledger/ledger)")
    .option("--sample-interval <seconds>", "telemetry sampling period while the engine runs", "1")
    .option("--json", "print one JSON document on stdout")
    .action(async (flags: RunFlags) => {
      const { parseRunEngine, runJob } = await import("../../collector/run/launcher.js");
      const engine = parseRunEngine(flags.engine);
      if (flags.prompt !== undefined && flags.promptTokens !== undefined) throw new InputError("give --prompt or --prompt-tokens, not both");
      const gen = flagValue("tokensOrZero", flags.gen, "--gen");
      const promptTokens = optFlag("tokens", flags.promptTokens, "--prompt-tokens");
      const sample = flagValue("period", flags.sampleInterval, "--sample-interval");
      if (engine.launch.modelFile === "gguf" && !flags.gguf) throw new InputError(`${engine.label} runs a GGUF file: pass --gguf FILE`);
      const { model } = await loadModel(flags);
      const dep = deploymentFromFlags(model, { ...flags, engine: engine.id }, flags.context!);
      const { openHost, knownDevices } = await import("../../collector/run/host.js");
      const ledger = await ledgerDirFlag(flags.ledger);
      const h = await openHost(flags.host, { trustHostKey: flags.trustHostKey });
      let result;
      try {
        result = await runJob({
          engine,
          model,
          modelRef: (flags.gguf ?? flags.model)!,
          dep,
          prompt: flags.prompt,
          promptTokens,
          gen,
          binary: flags.binary ?? flags.llamaServer,
          host: h.host,
          transport: h.transport,
          ledger,
          sampleMs: sample * 1000,
          known: await knownDevices(ledger, h.host),
        });
      } finally {
        await h.transport.close();
      }
      const out = { jobId: result.jobId, status: result.status, predicted: result.predicted, actual: result.actual, ...(result.reason ? { reason: result.reason } : {}) };
      if (flags.json) printJson(out);
      else {
        const p = result.predicted.memory;
        const a = result.actual;
        const row = (label: string, pred: number | undefined, act: number | undefined) =>
          `${label.padEnd(12)} predicted ${pred === undefined ? "-" : formatBytes(pred)}  actual ${act === undefined ? "-" : formatBytes(act)}`;
        printLines([
            `job ${result.jobId}: ${result.status}${result.reason ? ` (${result.reason})` : ""} in ${result.durationS.toFixed(1)} s`,
            row("weights", p.weightsBytes, a.weightsBytes),
            row("KV cache", p.kvCacheBytes, a.kvCacheBytes),
            row("compute", p.activationBytes, a.computeBytes),
            `speed        prompt ${a.promptTokensPerSecond?.toFixed(1) ?? "-"} tok/s, decode ${a.decodeTokensPerSecond?.toFixed(1) ?? "-"} tok/s`,
            `recorded in ${ledger}`,
        ]);
      }
      if (result.status !== "completed") {
        const line = `job ${result.jobId} ${result.status}: ${result.reason}`;
        throw result.unreachable ? new HostUnreachable(line, result.unreachable) : new RuntimeFailure(line);
      }
    });
}
