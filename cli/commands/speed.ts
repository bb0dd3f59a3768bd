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
    .requiredOption("--device <id>", "catalog device id (see `hwledger devices`; CPUs of the catalog too)")
    .option("--prompt <n>", "prompt tokens", "512")
    .option("--gen <n>", "generated tokens", "128")
    .option("--ledger <dir>", "ledger whose measured runs on this device calibrate the prediction")
    .option("--no-calibrate", "ignore measured runs in the ledger")
    .action(async (flags: SpeedFlags) => {
      const { model } = await loadModel(flags);
      const prompt = flagValue("tokensOrZero", flags.prompt, "--prompt");
      const gen = flagValue("tokensOrZero", flags.gen, "--gen");
      if (prompt + gen === 0) throw new InputError("--prompt and --gen cannot both be 0");
      // A catalog CPU (host layers) has no engine view: its memory is whatever RAM the host has.
      const device = findDevice(flags.device, { hosts: true });
      const engineView = device.memoryBytes > 0 ? deviceFromFlag(flags.device) : undefined;
      const dep = deploymentFromFlags(model, flags, flags.context ?? String(Math.max(1, prompt + gen)), engineView);
      if (!device.bandwidthBytesPerSecond) throw new InputError(`device ${device.id} has no citable bandwidth figure; cannot predict speed`);
      const caps = placementDevice(device);
      let cal;
      if (flags.calibrate !== false) {
        const { existsSync } = await import("node:fs");
        const dir = await ledgerDirFlag(flags.ledger);
        if (existsSync(dir)) {
          const { calibrationFromLedger, calibrationKey } = await import("../../loaders/runs.js");
          cal = (await calibrationFromLedger(dir)).get(calibrationKey(dep.engine, device.id));
        }
      }
      const r = speed(model, dep, engine(dep.engine), caps, { prompt, gen, seqs: dep.seqs }, cal);
      // A device without the figure the engine's kernels need: one line naming it (bad input for this device).
      if (r.missing !== undefined) throw new InputError(`${device.id}: no ${dep.engine} speed prediction: ${r.missing}`);
      if (flags.json) return printJson(r);
      const f = (v: number | null) => (v === null ? "n/a" : v.toFixed(1));
      printLines([`${model.id} on ${device.name} (${dep.engine}, ${dep.weights}): prefill ${f(r.prefillTokensPerSecond)} tok/s, decode ${f(r.decodeTokensPerSecond)} tok/s (${r.calibrated ? "calibrated by measured runs" : "uncalibrated"})`]);
    });
}
