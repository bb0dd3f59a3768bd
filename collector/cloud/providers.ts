// The cloud provider plugins, each with where its API is (base URL, overridable by env) and its key, if one is
// found. Everything that rents goes through here; nothing branches on a provider's name.
import { hostname } from "node:os";
import { cloudPlugins } from "../../plugins/index.js";
import { CloudInputError } from "../../plugins/cloud-contract.js";
import type { CloudContext, CloudProvider } from "../../plugins/cloud-contract.js";
import { keyPlaces, readKey } from "../../plugins/cloud-keys.js";

export interface Connected {
  plugin: CloudProvider;
  baseUrl: string;
  /** Undefined when no key was found. */
  ctx?: CloudContext;
  keyFrom?: string;
}

export interface ConnectOptions {
  timeoutMs?: number;
  retries?: number;
  env?: NodeJS.ProcessEnv;
}

export function connect(plugin: CloudProvider, o: ConnectOptions = {}): Connected {
  const env = o.env ?? process.env;
  const baseUrl = env[plugin.baseUrlEnv] || plugin.defaultBaseUrl;
  const found = readKey(plugin.keySource, env);
  const base = { timeoutMs: o.timeoutMs ?? 30_000, retries: o.retries ?? 3, baseUrl };
  return { plugin, baseUrl, ...(found ? { ctx: { ...base, key: found.key }, keyFrom: found.from } : {}) };
}

export async function connectAll(o: ConnectOptions = {}): Promise<Connected[]> {
  return (await cloudPlugins()).map((p) => connect(p, o));
}

/** The provider named `name` (its Offer.provider), or a one-line list of those there are. */
export function pick(all: Connected[], name: string): Connected {
  const c = all.find((x) => x.plugin.provider === name);
  if (!c) throw new CloudInputError("unknown-offer", `unknown cloud provider "${name}" (one of: ${all.map((x) => x.plugin.provider).join(", ")})`);
  return c;
}

/** The context of a provider that needs its key for this call; no key is bad input with where to put one. */
export function withKey(c: Connected): CloudContext {
  if (!c.ctx) throw new CloudInputError("no-key", `no ${c.plugin.title} API key: set ${keyPlaces(c.plugin.keySource)}`);
  return c.ctx;
}

/** A context for calls that work without a key (Vast.ai's public offer search). */
export function anonymous(c: Connected): CloudContext {
  return c.ctx ?? { baseUrl: c.baseUrl, key: "", timeoutMs: 30_000, retries: 3 };
}

/** This machine as a ledger host (where the rental was started). */
export function localHost(): string {
  return hostname().replace(/[^A-Za-z0-9._-]/g, "-") || "localhost";
}

/** Refuses to reach a provider when HWLEDGER_OFFLINE is set (tests and air-gapped runs never rent by accident). */
export function assertOnline(what: string): void {
  if (process.env.HWLEDGER_OFFLINE) throw new CloudInputError("unsupported", `${what} needs the provider's API, and HWLEDGER_OFFLINE is set`);
}
