// Plugin manifests: every plugin folder's index.ts exports `manifest`, validated here by zod.
// Kinds: engine | probe | price | architecture | cloud. Probes also carry `detect` and `probe(transport)`; cloud
// providers their calls (plugins/cloud-contract.ts).
import { z } from "zod";
import { cloudManifestSchema } from "./cloud-contract.js";

export const PLUGIN_KINDS = ["engine", "probe", "price", "architecture", "cloud"] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/** What a probe needs from a transport (collector/transport implements it for local and SSH hosts). */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}
export interface ProbeTransport {
  exec(argv: string[], opts?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
}

/** What the host looks like before probing: `uname -s` (Linux, Darwin, …). */
export interface ProbeContext {
  os: string;
}

/** ok: read; missing: the tool is not installed; failed: the tool ran and refused (driver not loaded, …). */
export type ProbeStatus = "ok" | "missing" | "failed" | "skipped";

export interface GpuReading {
  vendor: "nvidia" | "amd" | "apple";
  index: number;
  name: string;
  uuid?: string;
  busId?: string;
  driver?: string;
  memoryTotalBytes?: number;
  memoryUsedBytes?: number;
  utilizationPct?: number;
  powerW?: number;
  powerLimitW?: number;
  temperatureC?: number;
  /** Apple Silicon: GPU shares system RAM (memory figures are the host's). */
  unifiedMemory?: boolean;
  cores?: number;
}

export interface GpuProcess {
  gpuUuid?: string;
  pid: number;
  name: string;
  usedBytes?: number;
}

export interface HostReading {
  os?: string;
  arch?: string;
  cpuModel?: string;
  cpuCount?: number;
  sockets?: number;
  ramTotalBytes?: number;
  ramAvailableBytes?: number;
  swapTotalBytes?: number;
  swapUsedBytes?: number;
  machineModel?: string;
  cpuPowerW?: number;
}

/** One probe's answer. A missing or failing tool is a status with a one-line reason, never a throw. */
export interface ProbeOutcome {
  probe: string;
  status: ProbeStatus;
  reason?: string;
  host?: HostReading;
  gpus: GpuReading[];
  processes?: GpuProcess[];
}

/** A zod check that a manifest field is a function. */
export const fn = <T>(what: string) => z.custom<T>((v) => typeof v === "function", { message: `${what} must be a function` });

/** Fields every plugin manifest has. */
export const base = {
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "lower-case name: letters, digits, '-' or '.'"),
  version: z.string().regex(/^\d+\.\d+\.\d+/, "semver version"),
  description: z.string().min(1),
};

export const probeManifestSchema = z.object({
  kind: z.literal("probe"),
  ...base,
  /** Whether this probe applies to a host of this OS (cheap: no command run). */
  detect: fn<(ctx: ProbeContext) => boolean>("detect"),
  /** Runs the tool(s) through the transport and parses them; never throws for a missing/failing tool. */
  probe: fn<(t: ProbeTransport, ctx: ProbeContext) => Promise<ProbeOutcome>>("probe"),
});

// Engine, price and architecture plugins keep their own extra exports; the manifest checks the common fields (an
// engine's own contract is plugins/engine-contract.ts).
export const engineManifestSchema = z.looseObject({ kind: z.literal("engine"), ...base });
export const priceManifestSchema = z.looseObject({ kind: z.literal("price"), ...base });
export const architectureManifestSchema = z.looseObject({ kind: z.literal("architecture"), ...base });

export const manifestSchema = z.discriminatedUnion("kind", [
  probeManifestSchema,
  engineManifestSchema,
  priceManifestSchema,
  architectureManifestSchema,
  cloudManifestSchema,
]);

export type ProbeManifest = z.infer<typeof probeManifestSchema>;
export type PluginManifest = z.infer<typeof manifestSchema>;

/** Validates a manifest, turning zod's report into one line that names the plugin folder. */
export function validateManifest(folder: string, value: unknown): PluginManifest {
  const r = manifestSchema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new Error(`plugin ${folder}: invalid manifest: ${first.path.join(".") || "(root)"}: ${first.message}`);
  }
  return r.data;
}
