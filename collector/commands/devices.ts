// hwledger devices: the device catalog (memory, bandwidth, compute, with sources).
import type { Command } from "commander";
import { formatBytes, printJson } from "../output.js";

export function registerDevices(program: Command): void {
  program
    .command("devices")
    .description("list catalog devices: id, memory, bandwidth (with per-field sources in --json)")
    .option("--json", "print one JSON document on stdout")
    .action(async (flags: { json?: boolean }) => {
      const { catalogDevices } = await import("../../lib/fleet/devices.js");
      const devices = catalogDevices();
      if (flags.json) return printJson(devices);
      const w = Math.max(...devices.map((d) => d.id.length));
      const lines = devices.map((d) => `${d.id.padEnd(w)}  ${formatBytes(d.memoryBytes).padStart(10)}  ${d.bandwidthBytesPerSecond === null ? "    ? GB/s" : `${String(d.bandwidthBytesPerSecond / 1e9).padStart(5)} GB/s`}  ${d.name}`);
      process.stdout.write(lines.join("\n") + "\n");
    });
}
