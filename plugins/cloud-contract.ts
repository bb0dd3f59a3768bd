// The contract every cloud provider plugin (plugins/cloud-*/) meets: offer search, create, status, SSH address,
// destroy and billing, behind one zod-checked manifest. Nothing outside a plugin branches on a provider's name.
import { z } from "zod";
import { InputError } from "../lib/calc/types.js";
import type { Offer } from "../lib/fleet/offers.js";
import { liveInstanceSchema } from "../lib/fleet/rent.js";
import type { LiveInstance } from "../lib/fleet/rent.js";

/** What a plugin's calls need: where the API is, the key (only ever sent in a header), a timeout. */
export interface CloudContext {
  baseUrl: string;
  key: string;
  timeoutMs: number;
  /** Retries on 429 (Retry-After honoured) and transient 5xx before giving up. */
  retries: number;
}

export interface CreateRequest {
  offer: Offer;
  /** The tag hwledger finds the instance by again (lib/fleet/rent.ts labelFor). */
  label: string;
  /** Container image where the provider runs containers (Vast.ai, RunPod); Lambda boots its own VM image. */
  image?: string;
  diskGb: number;
  /** Public key line for the instance's authorized_keys, where the API takes one (RunPod's PUBLIC_KEY). */
  sshPublicKey?: string;
  /** A key already registered with the provider, where the API wants a name (Lambda's ssh_key_names). */
  sshKeyName?: string;
  /** Interruptible/spot: the bid per hour for the whole offer. Undefined = on-demand. */
  bidPerHour?: number;
}

export interface BillingRecord {
  amountUsd: number;
  /** What the provider's own billing calls it, e.g. "vastai charges instance-123". */
  basis: string;
}

/** How the provider's key is found: environment first, then the provider's own config files under HOME. */
export interface KeySource {
  env: string;
  /** Files relative to HOME (or XDG_CONFIG_HOME where the provider uses it), read in order. */
  files: string[];
  /** Pulls the key out of one file's text (plain text, TOML, …). */
  parse(text: string, file: string): string | undefined;
}

export interface CloudProvider {
  kind: "cloud";
  name: string;
  version: string;
  description: string;
  /** Offer.provider of its offers (the matching price plugin's provider name). */
  provider: string;
  /** Human name for messages. */
  title: string;
  defaultBaseUrl: string;
  /** Environment variable that overrides the base URL (tests point it at 127.0.0.1). */
  baseUrlEnv: string;
  keySource: KeySource;
  /** Whether searching offers works without a key (Vast.ai's marketplace is public). */
  offersNeedKey: boolean;
  /** The SSH user of its instances unless the API says otherwise. */
  sshUser: string;
  /** Live offers (offerId: just that one, when the provider can look one up). */
  searchOffers(ctx: CloudContext, filter: { gpuCount?: number; offerId?: string }): Promise<Offer[]>;
  /** The shipped snapshot of the matching price plugin (offline; IDs there may no longer be rentable). */
  snapshotOffers(): Offer[];
  /** Rents; resolves with the provider's instance id. Throws CloudInputError/CloudRuntimeError with a code. */
  create(ctx: CloudContext, req: CreateRequest): Promise<string>;
  /** One instance, or null when the provider no longer knows it. */
  get(ctx: CloudContext, instanceId: string): Promise<LiveInstance | null>;
  /** Every instance of the account carrying an hwledger tag. */
  listTagged(ctx: CloudContext): Promise<LiveInstance[]>;
  /** Destroys (stops billing). Idempotent: an instance already gone resolves "gone". */
  destroy(ctx: CloudContext, instanceId: string): Promise<"destroyed" | "gone">;
  /** The provider's own billing for one instance since `since`, when it has a billing API. */
  billing?(ctx: CloudContext, instanceId: string, since: Date, until: Date): Promise<BillingRecord | undefined>;
}

/** Why a cloud call failed, in words a script can branch on (recorded as instance_failed.code). */
export type CloudErrorCode =
  | "bad-key"
  | "no-key"
  | "unknown-offer"
  | "unsupported"
  | "bad-request"
  | "no-capacity"
  | "outbid"
  | "rate-limited"
  | "never-running"
  | "provider-error"
  | "network";

/** Bad input (a refused key, an offer that does not exist, an option the provider lacks): exit 2. */
export class CloudInputError extends InputError {
  constructor(readonly code: CloudErrorCode, message: string) {
    super(message);
  }
}

/** A runtime failure (no capacity, outbid, rate limited, provider down): exit 1. */
export class CloudRuntimeError extends Error {
  override name = "CloudRuntimeError";
  constructor(readonly code: CloudErrorCode, message: string) {
    super(message);
  }
}

export function cloudErrorCode(e: unknown): CloudErrorCode {
  return e instanceof CloudInputError || e instanceof CloudRuntimeError ? e.code : "provider-error";
}

const fn = (what: string) => z.custom<(...a: never[]) => unknown>((v) => typeof v === "function", { message: `${what} must be a function` });

export const cloudManifestSchema = z.looseObject({
  kind: z.literal("cloud"),
  name: z.string().regex(/^cloud-[a-z0-9-]+$/, "cloud-<provider>"),
  version: z.string().regex(/^\d+\.\d+\.\d+/, "semver version"),
  description: z.string().min(1),
  provider: z.string().regex(/^[a-z0-9]+$/),
  title: z.string().min(1),
  defaultBaseUrl: z.url(),
  baseUrlEnv: z.string().regex(/^HWLEDGER_[A-Z0-9_]+_URL$/),
  keySource: z.object({ env: z.string().min(1), files: z.array(z.string()), parse: fn("keySource.parse") }),
  offersNeedKey: z.boolean(),
  sshUser: z.string().min(1),
  searchOffers: fn("searchOffers"),
  snapshotOffers: fn("snapshotOffers"),
  create: fn("create"),
  get: fn("get"),
  listTagged: fn("listTagged"),
  destroy: fn("destroy"),
  billing: fn("billing").optional(),
});

/** Plugins hand back instances through this: a provider changing its format fails here, by name, not later. */
export function checkInstance(provider: string, v: LiveInstance): LiveInstance {
  const r = liveInstanceSchema.safeParse(v);
  if (!r.success) throw new CloudRuntimeError("provider-error", `${provider}: unexpected instance record: ${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`);
  return r.data;
}
