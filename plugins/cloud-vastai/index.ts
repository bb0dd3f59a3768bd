// Vast.ai provider plugin: marketplace search, rent (accept an ask), instance status and SSH address, destroy,
// and the per-instance charges. REST at console.vast.ai with `Authorization: Bearer <key>` (the docs'
// BearerAuth); offers parsed by the Vast.ai price plugin's parser (same `search offers` rows).
import type { CloudContext, CloudProvider, CreateRequest } from "../cloud-contract.js";
import { CloudInputError, checkInstance } from "../cloud-contract.js";
import { bearer, cloudRequest, taggedRows } from "../cloud-http.js";
import type { HttpCall } from "../cloud-http.js";
import { plainKey } from "../cloud-keys.js";
import { manifest as price } from "../price-vastai/index.js";
import { parseVastOffers } from "../price-vastai/parse.js";
import { TITLE, chargesSchema, classify, createAnswerSchema, listInstancesSchema, parseWith, showInstanceSchema, toLive, vastInstanceSchema } from "./parse.js";

const style = { title: TITLE, auth: bearer, classify };
const call = (ctx: CloudContext, c: HttpCall) => cloudRequest(ctx, style, c);
/** Vast runs the image's SSH launch mode as root (docs: instances, SSH). */
const SSH_USER = "root";
/** The image create_instance.yaml defaults to. */
const DEFAULT_IMAGE = "vastai/base-image:@vastai-automatic-tag";
const MAX_PAGES = 40;

async function searchOffers(ctx: CloudContext, filter: { gpuCount?: number; offerId?: string }) {
  // search_offers request shape: field filters {op: value}, type, order, limit (docs hello-world / openapi example).
  const body: Record<string, unknown> = {
    verified: { eq: true },
    rentable: { eq: true },
    rented: { eq: false },
    type: "on-demand",
    order: [["dph_total", "asc"]],
    limit: 500,
  };
  if (filter.gpuCount) body.num_gpus = { eq: filter.gpuCount };
  if (filter.offerId) {
    if (!/^\d+$/.test(filter.offerId)) throw new CloudInputError("unknown-offer", `${TITLE}: offer ids are numbers, got "${filter.offerId}"`);
    body.id = { eq: Number(filter.offerId) };
  }
  const a = await call(ctx, { method: "POST", path: "/api/v0/bundles/", body });
  return parseVastOffers(a.json, new Date().toISOString(), "online");
}

/** Puts the key on the instance through the documented `onstart` commands (Vast otherwise uses the account's keys). */
function onstartFor(req: CreateRequest): string | undefined {
  const k = req.sshPublicKey?.trim();
  if (!k) return undefined;
  if (!/^[A-Za-z0-9@.+/=: _-]+$/.test(k)) throw new CloudInputError("bad-request", `${TITLE}: the SSH public key has unexpected characters`);
  return `mkdir -p ~/.ssh && chmod 700 ~/.ssh && echo '${k}' >> ~/.ssh/authorized_keys && chmod 600 ~/.ssh/authorized_keys`;
}

async function create(ctx: CloudContext, req: CreateRequest): Promise<string> {
  if (!/^\d+$/.test(req.offer.offerId)) throw new CloudInputError("unknown-offer", `${TITLE}: offer ids are numbers, got "${req.offer.offerId}"`);
  const onstart = onstartFor(req);
  // create_instance.yaml: image, label, disk (GB, ≥ 8), runtype, price (bid per machine, interruptible only),
  // target_state, cancel_unavail (do not leave an on-demand rental waiting for a busy machine).
  const body: Record<string, unknown> = {
    image: req.image ?? DEFAULT_IMAGE,
    label: req.label,
    disk: Math.max(8, req.diskGb),
    runtype: "ssh_direct",
    target_state: "running",
    cancel_unavail: true,
    ...(onstart ? { onstart } : {}),
    ...(req.bidPerHour !== undefined ? { price: req.bidPerHour } : {}),
  };
  const a = await call(ctx, { method: "PUT", path: `/api/v0/asks/${req.offer.offerId}/`, body });
  const r = parseWith(createAnswerSchema, a, "create instance");
  if (!r.new_contract) throw new CloudInputError("unknown-offer", `${TITLE}: create answered without an instance id`);
  return String(r.new_contract);
}

async function get(ctx: CloudContext, id: string) {
  const a = await call(ctx, { method: "GET", path: `/api/v0/instances/${encodeURIComponent(id)}/`, accept: [404] });
  if (a.status === 404) return null;
  // A destroyed instance answers {"instances": null} (a captured curl transcript, SOURCES.md).
  const r = parseWith(showInstanceSchema, a, "show instance");
  return r.instances ? checkInstance(TITLE, toLive(r.instances, SSH_USER)) : null;
}

async function listTagged(ctx: CloudContext) {
  const out = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    // show_instances.yaml (v1): keyset pages of at most 25; select_filters cannot match a label prefix.
    const query: Record<string, string> = { limit: "25", ...(token ? { after_token: token } : {}) };
    const a = await call(ctx, { method: "GET", path: "/api/v1/instances/", query });
    const r = parseWith(listInstancesSchema, a, "show instances");
    out.push(...taggedRows(r.instances ?? [], vastInstanceSchema, (i) => i.label, (i) => checkInstance(TITLE, toLive(i, SSH_USER))));
    token = r.next_token ?? undefined;
    if (!token) break;
  }
  return out;
}

async function destroy(ctx: CloudContext, id: string): Promise<"destroyed" | "gone"> {
  // destroy_instance.yaml: DELETE → {success: true}; 404 "Instance not found" once it is gone.
  const a = await call(ctx, { method: "DELETE", path: `/api/v0/instances/${encodeURIComponent(id)}/`, accept: [404] });
  return a.status === 404 ? "gone" : "destroyed";
}

async function billing(ctx: CloudContext, id: string, since: Date, until: Date) {
  // show_charges.yaml: select_filters.day {gte, lte} in unix seconds (required), type in [instance]; rows are per
  // contract with source "instance-<id>" and the total amount.
  const day = { gte: Math.floor(since.getTime() / 1000) - 86400, lte: Math.ceil(until.getTime() / 1000) + 86400 };
  const query = { select_filters: JSON.stringify({ day, type: { in: ["instance"] } }), limit: "500" };
  const a = await call(ctx, { method: "GET", path: "/api/v0/charges/", query });
  const r = parseWith(chargesSchema, a, "show charges");
  const rows = r.results.filter((x) => x.source === `instance-${id}`);
  if (!rows.length) return undefined;
  return { amountUsd: rows.reduce((s, x) => s + x.amount, 0), basis: `vastai charges instance-${id}` };
}

export const manifest: CloudProvider = {
  kind: "cloud",
  name: "cloud-vastai",
  version: "1.0.0",
  description: "Rent Vast.ai marketplace offers: create, status, SSH, destroy, charges",
  provider: "vastai",
  title: TITLE,
  defaultBaseUrl: "https://console.vast.ai",
  baseUrlEnv: "HWLEDGER_VASTAI_URL",
  // The vast CLI keeps the key in $XDG_CONFIG_HOME/vastai/vast_api_key (legacy ~/.vast_api_key) — vast.py APIKEY_FILE.
  keySource: { env: "VAST_API_KEY", files: ["$XDG_CONFIG_HOME/vastai/vast_api_key", "~/.vast_api_key"], parse: plainKey },
  offersNeedKey: false,
  sshUser: SSH_USER,
  searchOffers,
  snapshotOffers: () => price.snapshot(),
  create,
  get,
  listTagged,
  destroy,
  billing,
};
