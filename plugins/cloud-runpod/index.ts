// RunPod provider plugin: GPU types and prices (GraphQL gpuTypes, parsed by the RunPod price plugin), pods
// through the REST API v2 (create, get, list, terminate) and per-pod billing. Both APIs take the key as
// `Authorization: Bearer` (openapi bearerAuth; runpod-python api/graphql.py sends the same header).
import type { CloudContext, CloudProvider, CreateRequest } from "../cloud-contract.js";
import { CloudInputError, checkInstance } from "../cloud-contract.js";
import { bearer, cloudRequest, taggedRows } from "../cloud-http.js";
import type { HttpCall } from "../cloud-http.js";
import { tomlString } from "../cloud-keys.js";
import { manifest as price } from "../price-runpod/index.js";
import { parseRunpodGpuTypes } from "../price-runpod/parse.js";
import type { Offer } from "../../lib/fleet/offers.js";
import { TITLE, classify, gpuTypesAnswerSchema, listPodsSchema, parseWith, podBillingSchema, podSchema, toLive } from "./parse.js";

const style = { title: TITLE, auth: bearer, classify };
const call = (ctx: CloudContext, c: HttpCall) => cloudRequest(ctx, style, c);
const SSH_USER = "root";
/** The image of the v2 create-pod example (a RunPod image: it starts sshd from PUBLIC_KEY). */
const DEFAULT_IMAGE = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404";
// The fields parseRunpodGpuTypes reads (the same query as the RunPod price plugin).
const GPU_TYPES = "{ gpuTypes { id displayName memoryInGb maxGpuCount secureCloud communityCloud securePrice communityPrice communitySpotPrice secureSpotPrice } }";

async function searchOffers(ctx: CloudContext, filter: { gpuCount?: number; offerId?: string }) {
  const a = await call(ctx, { method: "POST", path: "/graphql", body: { query: GPU_TYPES } });
  const r = parseWith(gpuTypesAnswerSchema, a, "gpuTypes");
  const offers = rentable(parseRunpodGpuTypes(r.data.gpuTypes, new Date().toISOString(), "online"));
  return filter.offerId ? offers.filter((o) => o.offerId === filter.offerId) : offers;
}

/** gpuTypes reports price 0 for a tier that does not offer the type (e.g. securePrice 0 with secureCloud false). */
function rentable(offers: Offer[]): Offer[] {
  return offers.filter((o) => (o.onDemandPerHour ?? 0) > 0);
}

async function create(ctx: CloudContext, req: CreateRequest): Promise<string> {
  if (req.bidPerHour !== undefined) throw new CloudInputError("unsupported", `${TITLE}: the REST API v2 rents on-demand pods only; drop --spot`);
  // parseRunpodGpuTypes: offerId "<gpu type id> (<secure|community>)", region the tier.
  const tier = (req.offer.region ?? "secure").toUpperCase();
  if (tier !== "SECURE" && tier !== "COMMUNITY") throw new CloudInputError("unknown-offer", `${TITLE}: offer "${req.offer.offerId}" names no cloud tier`);
  // CreatePodRequest: name, image, gpu {id, count}, cloud, disk (GB), ports ("22/tcp" for ssh.direct), startSsh,
  // env (PUBLIC_KEY set here wins over the account's registered keys).
  const body = {
    name: req.label,
    image: req.image ?? DEFAULT_IMAGE,
    gpu: { id: req.offer.gpuName, count: req.offer.gpuCount },
    cloud: tier,
    disk: req.diskGb,
    ports: ["22/tcp"],
    startSsh: true,
    ...(req.sshPublicKey ? { env: { PUBLIC_KEY: req.sshPublicKey.trim() } } : {}),
  };
  const a = await call(ctx, { method: "POST", path: "/v2/pods", body });
  return parseWith(podSchema, a, "create pod").id;
}

async function get(ctx: CloudContext, id: string) {
  const a = await call(ctx, { method: "GET", path: `/v2/pods/${encodeURIComponent(id)}`, accept: [404] });
  if (a.status === 404) return null;
  return checkInstance(TITLE, toLive(parseWith(podSchema, a, "get pod"), SSH_USER));
}

async function listTagged(ctx: CloudContext) {
  const a = await call(ctx, { method: "GET", path: "/v2/pods" });
  return taggedRows(parseWith(listPodsSchema, a, "list pods").pods, podSchema, (p) => p.name, (p) => checkInstance(TITLE, toLive(p, SSH_USER)));
}

async function destroy(ctx: CloudContext, id: string): Promise<"destroyed" | "gone"> {
  // DELETE /v2/pods/{id}: 204, no body; 404 once it no longer exists.
  const a = await call(ctx, { method: "DELETE", path: `/v2/pods/${encodeURIComponent(id)}`, accept: [404] });
  return a.status === 404 ? "gone" : "destroyed";
}

async function billing(ctx: CloudContext, id: string, since: Date, until: Date) {
  // GET /v2/billing/pods: startTime/endTime RFC 3339 (snapped to the bucket), bucketSize, podId.
  const day = (d: Date, up: boolean) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + (up ? 1 : 0))).toISOString();
  const query = { podId: id, startTime: day(since, false), endTime: day(until, true), bucketSize: "day" };
  const a = await call(ctx, { method: "GET", path: "/v2/billing/pods", query });
  const rows = parseWith(podBillingSchema, a, "pod billing").records.filter((r) => !r.podId || r.podId === id);
  if (!rows.length) return undefined;
  return { amountUsd: rows.reduce((s, r) => s + r.totalAmount, 0), basis: `runpod billing pod ${id}` };
}

export const manifest: CloudProvider = {
  kind: "cloud",
  name: "cloud-runpod",
  version: "1.0.0",
  description: "Rent RunPod GPU pods: create, status, SSH, terminate, billing",
  provider: "runpod",
  title: TITLE,
  defaultBaseUrl: "https://api.runpod.io",
  baseUrlEnv: "HWLEDGER_RUNPOD_URL",
  // runpod-python (cli/groups/config/functions.py) writes [default] api_key; runpodctl writes a top-level apikey.
  keySource: {
    env: "RUNPOD_API_KEY",
    files: ["~/.runpod/config.toml"],
    parse: (t) => tomlString(t, "default", "api_key") ?? tomlString(t, undefined, "apikey") ?? tomlString(t, undefined, "apiKey"),
  },
  offersNeedKey: true,
  sshUser: SSH_USER,
  searchOffers,
  snapshotOffers: () => rentable(price.snapshot()),
  create,
  get,
  listTagged,
  destroy,
  billing,
};
