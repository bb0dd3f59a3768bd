// hwledger split: one model over several unlike devices (layer ranges), with commands and a migration plan.
import type { Command } from "commander";
import { InputError } from "../../lib/calc/index.js";
import { checkLimit } from "../../lib/calc/limits.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { findDevice } from "../../lib/fleet/devices.js";
import { migration, planSplit } from "../../lib/fleet/split.js";
import { ENGINES } from "../../plugins/engines.js";
import { formatBytes, printJson, printLines } from "../output.js";
import { columns } from "../table.js";
import { addDeploymentOptions, deploymentFromFlags, deviceFromFlag, loadModel } from "./shared.js";
import type { DeploymentFlags } from "./shared.js";

interface SplitFlags extends DeploymentFlags {
  devices: string;
  host?: string;
  without?: string;
}

export function registerSplit(program: Command): void {
  const cmd = program.command("split").description("split one model across unlike devices: layer ranges, memory, tokens/s, llama.cpp RPC and vLLM settings");
  addDeploymentOptions(cmd, false, "llama.cpp")
    .requiredOption("--devices <a,b,c>", "device ids in order; for llama.cpp the first one runs llama-server, the others rpc-server")
    .option("--host <cpu-id>", "llama.cpp: a catalog CPU whose RAM takes the first layers when the devices cannot hold the model (an offloaded split, -ngl below the layer count)")
    .option("--without <id>", "re-plan without this device and list which layers move where")
    .action(async (flags: SplitFlags) => {
      const ids = flags.devices.split(",").map((s) => s.trim()).filter(Boolean);
      if (!ids.length) throw new InputError("--devices needs at least one device id");
      // Each device is one pipeline stage of the split: bounded like --pp.
      checkLimit(ids.length, "pp", "the number of --devices");
      // Each id resolves like every command's --device; a split's capacity stays the size as sold (every engine's).
      const devices = ids.map((id) => placementDevice(findDevice(deviceFromFlag(id)!.id)));
      const { model } = await loadModel(flags);
      const dep = deploymentFromFlags(model, flags, flags.context ?? "4096");
      const opts = flags.host ? { host: placementDevice(findDevice(flags.host, { hosts: true })) } : {};
      const before = planSplit(model, dep, devices, ENGINES, opts);
      let result: Record<string, unknown> = { ...before };
      if (flags.without) {
        const gone = findDevice(flags.without).id;
        if (!ids.includes(gone) && !devices.some((d) => d.id === gone)) throw new InputError(`--without ${flags.without}: not one of --devices`);
        const rest = devices.filter((d) => d.id !== gone);
        const after = planSplit(model, dep, rest, ENGINES, opts);
        result = { ...after, before, without: gone, migration: migration(before, after) };
      }
      if (flags.json) return printJson(result);
      const p = result as unknown as ReturnType<typeof planSplit> & { migration?: ReturnType<typeof migration> };
      const lines = [...columns(p.assignments.map((a) => [a.device, `layers ${a.layers ? `${a.layerStart}-${a.layerEnd}` : "none"}${a.output ? " + output" : ""}`, a.capacityBytes ? `${formatBytes(a.memoryBytes)} of ${formatBytes(a.capacityBytes)}` : `${formatBytes(a.memoryBytes)} (host RAM)`]))];
      if (p.offload) lines.push(`offloaded: ${p.offload.hostLayers} layers in ${p.offload.host}'s RAM, -ngl ${p.offload.gpuLayers}`);
      lines.push(`decode ≈ ${p.tokensPerSecond.toFixed(1)} tok/s single stream, ${p.pipelineTokensPerSecond.toFixed(1)} tok/s pipelined`);
      if (p.migration) for (const m of p.migration) lines.push(`move layers ${m.layerStart}-${m.layerEnd}: ${m.from} -> ${m.to}`);
      for (const [key, cmds] of Object.entries(p.commands)) {
        const label = ENGINES.find((e) => e.pipelineCommands?.key === key)?.label ?? key;
        lines.push(...cmds.map((c) => (c.startsWith("#") ? c : `# ${label}: ${c}`)));
      }
      printLines(lines);
    });
}
