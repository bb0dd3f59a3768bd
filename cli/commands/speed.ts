// hwledger speed: predicted prefill and decode tokens/s of a model on a device.
import type { Command } from "commander";
import { InputError, speed } from "../../lib/calc/index.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { findDevice } from "../../lib/fleet/devices.js";
import { engine } from "../../plugins/engines.js";
import { printJson, printLines } from "../output.js";
import { addDeploymentOptions, deploymentFromFlags, deviceFromFlag, flagValue, ledgerDirFlag, loadModel } from "./shared.js";
import type { DeploymentFlags } from "./shared.js";

interface SpeedFlags extends DeploymentFlags {
  device: string;
  prompt: string;
  gen: string;
  ledger?: string;
  calibrate?: boolean;
}

export function registerSpeed(program: Command): void {
  const cmd = program.command("speed").description("predicted prefill and decode tokens/s (llama-bench pp512 = --prompt 512 --gen 0, tg128 = --prompt 0 --gen 128)");
  addDeploymentOptions(cmd, false)
    .requiredOption("--device <id>", "catalog device id (see `hwledger devices`)")
    .option("--prompt <n>", "prompt tokens", "512")
    .option("--gen <n>", "generated tokens", "128")
    .option("--ledger <dir>", "ledger whose measured runs calibrate the efficiencies")
    .option("--no-calibrate", "use the default efficiencies even when the ledger has measured runs")
    .action(async (flags: SpeedFlags) => {
      const { model } = await loadModel(flags);
      const prompt = flagValue("tokensOrZero", flags.prompt, "--prompt");
      const gen = flagValue("tokensOrZero", flags.gen, "--gen");
      if (prompt + gen === 0) throw new InputError("--prompt and --gen cannot both be 0");
      const engineView = deviceFromFlag(flags.device)!;
      const dep = deploymentFromFlags(model, flags, flags.context ?? String(Math.max(1, prompt + gen)), engineView);
      const device = findDevice(engineView.id);
      if (!device.bandwidthBytesPerSecond) throw new InputError(`device ${device.id} has no citable bandwidth figure; cannot predict speed`);
      const caps = placementDevice(device);
      let eff;
      if (flags.calibrate !== false) {
        const { existsSync } = await import("node:fs");
        const dir = await ledgerDirFlag(flags.ledger);
        if (existsSync(dir)) {
          const { calibrationFromLedger } = await import("../../loaders/runs.js");
          eff = (await calibrationFromLedger(dir)).get(`${dep.engine}|${caps.deviceClass}`);
        }
      }
      const r = speed(model, dep, engine(dep.engine), caps, { prompt, gen, seqs: dep.seqs }, eff);
      if (flags.json) return printJson(r);
      const f = (v: number | null) => (v === null ? "n/a" : v.toFixed(1));
      printLines([`${model.id} on ${device.name} (${dep.engine}, ${dep.weights}): prefill ${f(r.prefillTokensPerSecond)} tok/s, decode ${f(r.decodeTokensPerSecond)} tok/s (${r.calibrated ? "calibrated" : "default efficiencies"})`]);
    });
}
