// Candidate hosts from Tailscale: the peers of `tailscale status --json` (a live call, or a saved output). Nothing is
// added anywhere: the caller prints them, and the user decides which go into a hosts file.
import { execFile } from "node:child_process";
import { isIP } from "node:net";
import { z } from "zod";
import { InputError } from "../errors.js";

// The fields read, as `tailscale status --json` prints them (ipn/ipnstate.Status and PeerStatus in
// tailscale/tailscale); every other field is kept by the loose objects and ignored. Verbatim sample:
// test/fixtures/tailscale/status-ikuai-1.76.1.json.
const peerSchema = z.looseObject({
  HostName: z.string(),
  DNSName: z.string().optional(),
  OS: z.string().optional(),
  // null when a node has no address yet (NeedsLogin).
  TailscaleIPs: z.array(z.string()).nullable().optional(),
  Online: z.boolean().optional(),
  Tags: z.array(z.string()).nullable().optional(),
  LastSeen: z.string().optional(),
});

export const TailscaleStatusSchema = z.looseObject({
  BackendState: z.string(),
  Self: peerSchema.nullable().optional(),
  // A map from node key to peer; null when the node has no peers.
  Peer: z.record(z.string(), peerSchema).nullable().optional(),
  MagicDNSSuffix: z.string().optional(),
});

export type TailscaleStatus = z.infer<typeof TailscaleStatusSchema>;

/** One peer as a candidate host. */
export interface TailscaleCandidate {
  /** The peer's own host name (what `tailscale status` shows; free text, e.g. "Conal’s Mac mini"). */
  name: string;
  /** Its MagicDNS name without the trailing dot, when it has one. */
  dnsName: string | null;
  os: string | null;
  online: boolean;
  ips: string[];
  /** What to connect to: the MagicDNS name, else the first IPv4, else the first address. */
  address: string | null;
  tags: string[];
}

const DNS_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/;

/** Parses a `tailscale status --json` text; anything else is bad input naming `source`. */
export function parseTailscaleStatus(text: string, source: string): TailscaleStatus {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InputError(`${source}: not JSON (expected the output of \`tailscale status --json\`)`);
  }
  const r = TailscaleStatusSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new InputError(`${source}: not a \`tailscale status --json\` output (${i.path.join(".") || "top level"}: ${i.message})`);
  }
  return r.data;
}

/** The peers (not this node), sorted by name; a status of a stopped or logged-out node is refused. */
export function tailscaleCandidates(s: TailscaleStatus, source: string): TailscaleCandidate[] {
  if (s.BackendState !== "Running")
    throw new InputError(`${source}: tailscale is not running here (BackendState ${JSON.stringify(s.BackendState)}); run \`tailscale up\` first`);
  return Object.values(s.Peer ?? {})
    .map((p): TailscaleCandidate => {
      const ips = (p.TailscaleIPs ?? []).filter((ip) => isIP(ip) !== 0);
      const dns = p.DNSName?.replace(/\.$/, "") ?? "";
      const dnsName = DNS_RE.test(dns) ? dns : null;
      return {
        name: p.HostName,
        dnsName,
        os: p.OS || null,
        online: p.Online === true,
        ips,
        address: dnsName ?? ips.find((ip) => isIP(ip) === 4) ?? ips[0] ?? null,
        tags: p.Tags ?? [],
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A hosts-file line for a candidate (collect --hosts FILE); an offline or address-less peer is commented out. */
export function hostsLine(c: TailscaleCandidate, opts: { user?: string; port: number }): string {
  if (!c.address) return `# ${c.name}: no address`;
  const host = isIP(c.address) === 6 ? `[${c.address}]` : c.address;
  const line = `ssh://${opts.user ? `${encodeURIComponent(opts.user)}@` : ""}${host}:${opts.port}`;
  return c.online ? line : `# ${line}  (offline)`;
}

/** Runs `tailscale status --json`; a missing binary or a daemon that does not answer is one line, exit 2. */
export function tailscaleStatusText(bin = "tailscale"): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, ["status", "--json"], { timeout: 10_000, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === "ENOENT") return reject(new InputError("tailscale is not installed (no `tailscale` on PATH); or pass --from FILE with a saved `tailscale status --json`"));
      if (e.killed) return reject(new InputError("`tailscale status --json` did not answer within 10 s"));
      const first = (stderr || stdout || e.message).trim().split("\n")[0];
      reject(new InputError(`\`tailscale status --json\` failed: ${first}`));
    });
  });
}
