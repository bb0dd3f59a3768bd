// hwledger devices: the device catalog (memory, bandwidth, compute, with sources) and the fleet's devices as the
// ledger registered them (matched to the catalog where the name says which part it is).
import type { Command } from "commander";
import { formatBytes, printJson, printLines } from "../output.js";
import { columns } from "../table.js";
import { ledgerDirFlag } from "../args.js";

export function registerDevices(program: Command): void {
  program
    .command("devices")
    .description("list catalog devices and the fleet's devices: id, memory, bandwidth, host link (with per-field sources in --json)")
    .option("--ledger <dir>", "ledger whose registered devices to list (default: $HWLEDGER_LEDGER or ~/.local/share/hwledger/ledger)")
    .option("--json", "print one JSON document on stdout")
    .action(async (flags: { ledger?: string; json?: boolean }) => {
      const { catalogDevices } = await import("../../lib/fleet/devices.js");
      const { fleetDevices } = await import("../../loaders/fleet.js");
      const catalog = catalogDevices().map((d) => ({ ...d, source: "catalog" as const }));
      const fleet = (await fleetDevices(await ledgerDirFlag(flags.ledger))).map((d) => ({ ...d, source: "fleet" as const }));
      const devices = [...catalog, ...fleet];
      if (flags.json) return printJson(devices);
      const gbps = (b: number | null) => (b ? `${b / 1e9} GB/s` : "? GB/s");
      // The link to host memory (what --cpu-offload-gb and host layers are read over); "-" where there is none or no source.
      const link = (d: (typeof catalog)[number]) => ("pcieGen" in d.hostLink ? `PCIe ${d.hostLink.pcieGen}.0 x${d.hostLink.pcieLanes}` : "-");
      const rows = [
        // Apple: the GPU's working set of the unified memory as sold.
        ...catalog.map((d) => [d.id, formatBytes(d.memoryBytes) + (d.unifiedMemoryBytes ? ` GPU of ${formatBytes(d.unifiedMemoryBytes)}` : ""), gbps(d.bandwidthBytesPerSecond), link(d), d.name]),
        ...fleet.map((d) => [d.id, formatBytes(d.memoryBytes), gbps(d.bandwidthBytesPerSecond), "", `${d.name} (fleet: ${d.host}${d.catalogId ? `, ${d.catalogId}` : ""})`]),
      ];
      printLines(columns(rows, ["left", "right", "right", "left", "left"]));
    });
}
