// Plugin discovery: every folder under plugins/ with an index.ts (or .js) exporting `manifest` is a plugin.
// Adding a plugin = adding a folder. The folder prefix says the kind (probe-*, engine-*, price-*, arch-*, cloud-*), so a
// caller that needs only probes imports only probe folders (collect stays fast: no engine code is loaded).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { validateManifest } from "./manifest.js";
import type { PluginKind, PluginManifest, ProbeManifest } from "./manifest.js";
import type { CloudProvider } from "./cloud-contract.js";

export const PLUGINS_DIR = fileURLToPath(new URL("./", import.meta.url));

const PREFIX: Record<PluginKind, string> = { probe: "probe-", engine: "engine-", price: "price-", architecture: "arch-", cloud: "cloud-" };

export interface DiscoveredPlugin {
  folder: string;
  manifest: PluginManifest;
}

/** Plugin folders (optionally of one kind), sorted by name. */
export function pluginFolders(kind?: PluginKind, dir = PLUGINS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && !e.name.startsWith("_"))
    .map((e) => e.name)
    .filter((n) => (kind ? n.startsWith(PREFIX[kind]) : Object.values(PREFIX).some((p) => n.startsWith(p))))
    .sort();
}

/** Imports and validates every plugin (of one kind). A folder without a valid manifest is an error naming it. */
export async function discoverPlugins(kind?: PluginKind, dir = PLUGINS_DIR): Promise<DiscoveredPlugin[]> {
  const out: DiscoveredPlugin[] = [];
  for (const folder of pluginFolders(kind, dir)) {
    const entry = ["index.ts", "index.js"].map((f) => join(dir, folder, f)).find((p) => existsSync(p));
    if (!entry) throw new Error(`plugin ${folder}: no index.ts or index.js`);
    const mod = (await import(pathToFileURL(entry).href)) as { manifest?: unknown };
    const manifest = validateManifest(folder, mod.manifest);
    if (kind && manifest.kind !== kind) throw new Error(`plugin ${folder}: folder says ${kind}, manifest says ${manifest.kind}`);
    out.push({ folder, manifest });
  }
  return out;
}

export async function probePlugins(dir = PLUGINS_DIR): Promise<ProbeManifest[]> {
  return (await discoverPlugins("probe", dir)).map((p) => p.manifest as ProbeManifest);
}

export async function cloudPlugins(dir = PLUGINS_DIR): Promise<CloudProvider[]> {
  return (await discoverPlugins("cloud", dir)).map((p) => p.manifest as unknown as CloudProvider);
}
