// hwledger hosts discover --tailscale: candidate hosts from the tailnet, printed (a table, --json, or hosts-file
// lines for collect --hosts). Nothing is added: the user picks.
import type { Command } from "commander";
import { InputError } from "../../collector/errors.js";
import { printJson, printLines } from "../output.js";

interface DiscoverFlags {
  tailscale?: boolean;
  from?: string;
  user?: string;
  port: string;
  hostsFile?: boolean;
  json?: boolean;
}

export function registerHosts(program: Command): void {
  const hosts = program.command("hosts").description("find candidate hosts for collect --hosts (printed, never added)");
  hosts
    .command("discover")
    .description("list the peers of this machine's tailnet as candidate hosts")
    .option("--tailscale", "from `tailscale status --json` (the only source so far)")
    .option("--from <file>", "a saved `tailscale status --json` output instead of running tailscale")
    .option("--user <name>", "SSH user for the printed ssh:// lines (default: none, i.e. your user name)")
    .option("--port <n>", "SSH port for the printed ssh:// lines", "22")
    .option("--hosts-file", "print lines for collect --hosts FILE (offline peers commented out)")
    .option("--json", "print one JSON document on stdout")
    .action(async (flags: DiscoverFlags) => {
      if (!flags.tailscale) throw new InputError("hosts discover needs a source: --tailscale");
      if (flags.json && flags.hostsFile) throw new InputError("give --json or --hosts-file, not both");
      const port = Number(flags.port);
      if (!/^\d{1,5}$/.test(flags.port) || port < 1 || port > 65535) throw new InputError(`--port must be a TCP port (1-65535), got "${flags.port}"`);
      if (flags.user !== undefined && !/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/.test(flags.user)) throw new InputError(`--user must be a user name ([A-Za-z0-9._-]), got "${flags.user}"`);
      const { hostsLine, parseTailscaleStatus, tailscaleCandidates, tailscaleStatusText } = await import("../../collector/discover/tailscale.js");
      let text: string;
      let source: string;
      if (flags.from !== undefined) {
        const { readRegularFile } = await import("../../loaders/files.js");
        text = readRegularFile(flags.from, "tailscale status", "textFileBytes").toString("utf8");
        source = flags.from;
      } else {
        text = await tailscaleStatusText();
        source = "tailscale status --json";
      }
      const peers = tailscaleCandidates(parseTailscaleStatus(text, source), source);
      const line = (c: (typeof peers)[number]) => hostsLine(c, { user: flags.user, port });
      if (flags.json) return printJson({ source: flags.from === undefined ? "tailscale" : "file", peers: peers.map((c) => ({ ...c, hostsLine: line(c) })) });
      if (flags.hostsFile) return printLines([`# tailnet peers from ${flags.from === undefined ? "tailscale status --json" : "a saved tailscale status --json"}; review before use`, ...peers.map(line)]);
      if (peers.length === 0) return printLines(["no peers in this tailnet"]);
      const rows = [["NAME", "ADDRESS", "OS", "ONLINE", "IPS"], ...peers.map((c) => [c.name, c.address ?? "-", c.os ?? "-", c.online ? "yes" : "no", c.ips.join(" ")])];
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      printLines([...rows.map((r) => r.map((v, i) => (i < r.length - 1 ? v.padEnd(widths[i]) : v)).join("  ")), `${peers.length} candidate hosts (nothing added; --hosts-file prints lines for collect --hosts)`]);
    });
}
