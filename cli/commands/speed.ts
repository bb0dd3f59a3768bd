// hwledger speed: predicted prefill and decode tokens/s of a model on a device.
import type { Command } from "commander";
import { InputError, compileSpeed, speed, speedOfSegments } from "../../lib/calc/index.js";
import type { SpeedSegment } from "../../lib/calc/index.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { deviceClassOf } from "../../lib/fleet/device-class.js";
import { findDevice } from "../../lib/fleet/devices.js";
import { engine } from "../../plugins/engines.js";
import { printJson, printLines } from "../output.js";
import { addLlamaCppOptions, llamaCppOptions } from "./llamacpp-flags.js";
import type { LlamaCppFlags } from "./llamacpp-flags.js";
import { addDeploymentOptions, deploymentFromFlags, deviceFromFlag, flagValue, ledgerDirFlag, loadModel, withCpuOffload } from "./shared.js";
import type { DeploymentFlags } from "./shared.js";

interface SpeedFlags extends DeploymentFlags, LlamaCppFlags {
  host?: string;
  device: string;
  prompt: string;
  gen: string;
  ledger?: string;
  calibrate?: boolean;
  cpuOffloadGb?: string;
}

export function registerSpeed(program: Command): void {
  const cmd = program.command("speed").description("predicted prefill and decode tokens/s (llama-bench pp512 = --prompt 512 --gen 0, tg128 = --prompt 0 --gen 128)");
  addLlamaCppOptions(addDeploymentOptions(cmd, false))
    .option("--host <cpu-id>", "catalog CPU whose RAM holds llama.cpp's host layers (--gpu-layers below the layer count)")
    .requiredOption("--device <id>", "catalog device id (see `hwledger devices`; CPUs of the catalog too)")
    .option("--prompt <n>", "prompt tokens", "512")
    .option("--gen <n>", "generated tokens", "128")
    .option("--ledger <dir>", "ledger whose measured runs on this device calibrate the prediction")
    .option("--no-calibrate", "ignore measured runs in the ledger")
    .option("--cpu-offload-gb <gib>", "vLLM --cpu-offload-gb: GiB of weights per GPU kept in host memory, read over the device's host link each forward")
    .action(async (flags: SpeedFlags) => {
      const { model } = await loadModel(flags);
      const prompt = flagValue("tokensOrZero", flags.prompt, "--prompt");
      const gen = flagValue("tokensOrZero", flags.gen, "--gen");
      if (prompt + gen === 0) throw new InputError("--prompt and --gen cannot both be 0");
      // A catalog CPU (host layers) has no engine view: its memory is whatever RAM the host has.
      const device = findDevice(flags.device, { hosts: true });
      const engineView = device.memoryBytes > 0 ? deviceFromFlag(flags.device) : undefined;
      const dep = withCpuOffload(deploymentFromFlags(model, flags, flags.context ?? String(Math.max(1, prompt + gen)), engineView), flags.cpuOffloadGb);
      dep.options = { ...dep.options, ...(await llamaCppOptions(flags, dep.engine, dep)) };
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
      const req = { prompt, gen, seqs: dep.seqs };
      // One segment per device a layer's weights are read from, when they are not all on the GPU; else the plain rule.
      let segments: SpeedSegment[] | undefined;
      const offloadLines: string[] = [];
      // llama.cpp with host layers: one segment per device of its placement (host layers at the host's figures).
      if (dep.engine === "llama.cpp" && dep.options?.gpuLayers !== undefined && dep.options.gpuLayers <= model.layers.length && deviceClassOf(device.category) !== "cpu") {
        if (!flags.host) throw new InputError("--gpu-layers below the layer count puts layers in host RAM: give --host <cpu-id> (a catalog CPU, see `hwledger devices`)");
        const host = findDevice(flags.host, { hosts: true });
        if (!host.bandwidthBytesPerSecond) throw new InputError(`--host ${host.id} has no citable bandwidth figure; cannot predict speed`);
        const { offloadSegments } = await import("../../plugins/engine-llamacpp/index.js");
        segments = offloadSegments(model.layers.length, dep, [caps], placementDevice(host));
      }
      // vLLM --cpu-offload-gb: the offloaded layers are read over the device's host link (data/devices/host-link.json).
      if (dep.options?.cpuOffloadGiB !== undefined) {
        const link = device.hostLink;
        if ("missing" in link) throw new InputError(`${device.id}: --cpu-offload-gb needs the device's host link figure (PCIe generation and lanes), which is missing: ${link.missing}`);
        if (dep.pp > 1) throw new InputError("--cpu-offload-gb speed is modelled for one pipeline stage (--pp 1)");
        const { vllmOffloadSegments } = await import("../../plugins/engine-vllm/index.js");
        segments = vllmOffloadSegments(model, dep, caps, link.bytesPerSecond);
        const hostLayers = segments[0].device === caps ? 0 : segments[0].to;
        offloadLines.push(
          `--cpu-offload-gb ${dep.options.cpuOffloadGiB}: layers 0-${Math.max(0, hostLayers - 1)} (${hostLayers} of ${model.layers.length}) read their weights from host memory at ${device.name}'s host link rate, PCIe ${link.pcieGen} x${link.pcieLanes}: ${(link.bytesPerSecond / 1e9).toFixed(2)} GB/s per direction (${link.source})`,
          "estimate: the offloaded layers run at the host link's rate (vLLM's offloader, plugins/engine-vllm/offload.ts); not validated on held-out runs: no measured vLLM run with --cpu-offload-gb is in the evidence",
        );
      }
      let r = segments ? speedOfSegments(compileSpeed(model, dep, engine(dep.engine)), segments, req, cal) : speed(model, dep, engine(dep.engine), caps, req, cal);
      if (offloadLines.length) r = { ...r, basis: [...offloadLines, ...r.basis] };
      // A device without the figure the engine's kernels need: one line naming it (bad input for this device).
      if (r.missing !== undefined) throw new InputError(`${device.id}: no ${dep.engine} speed prediction: ${r.missing}`);
      if (flags.json) return printJson(r);
      const f = (v: number | null) => (v === null ? "n/a" : v.toFixed(1));
      printLines([`${model.id} on ${device.name} (${dep.engine}, ${dep.weights}): prefill ${f(r.prefillTokensPerSecond)} tok/s, decode ${f(r.decodeTokensPerSecond)} tok/s (${r.calibrated ? "calibrated by measured runs" : "uncalibrated"})`, ...offloadLines.map((l) => `  basis: ${l}`)]);
    });
}
