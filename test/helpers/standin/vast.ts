// Vast.ai stand-in: console.vast.ai's endpoints hwledger calls, answering with the docs' and captured bodies.
import { z } from "zod";
import { check, fixture, newId, nextPoll } from "./core.js";
import type { Answer, Inst, ProviderShape, StandIn } from "./core.js";

const op = z.union([
  z.strictObject({ eq: z.unknown() }),
  z.strictObject({ neq: z.unknown() }),
  z.object({ gt: z.number().optional(), gte: z.number().optional(), lt: z.number().optional(), lte: z.number().optional() }).strict(),
  z.strictObject({ in: z.array(z.unknown()) }),
  z.strictObject({ notin: z.array(z.unknown()) }),
]);
// search_offers: field filters {op: value}, plus type, order, limit (hello-world and openapi request examples).
const searchBody = z.record(z.string(), z.unknown()).superRefine((b, ctx) => {
  const special: Record<string, z.ZodType> = {
    type: z.enum(["on-demand", "ondemand", "bid", "reserved"]),
    limit: z.number().int().positive(),
    order: z.array(z.tuple([z.string(), z.enum(["asc", "desc"])])),
  };
  for (const [k, v] of Object.entries(b)) if (!(special[k] ?? op).safeParse(v).success) ctx.addIssue({ code: "custom", path: [k], message: "not a documented filter" });
});
// create_instance.yaml request body (image required; unknown fields are not in the API).
const createBody = z.strictObject({
  image: z.string().min(1).max(1024),
  label: z.string().max(256).optional(),
  disk: z.number().min(8).optional(),
  runtype: z.enum(["ssh", "jupyter", "args", "ssh_proxy", "ssh_direct", "jupyter_proxy", "jupyter_direct"]).optional(),
  target_state: z.enum(["running", "stopped"]).optional(),
  price: z.number().min(0.001).max(128).optional(),
  cancel_unavail: z.boolean().optional(),
  onstart: z.string().optional(),
  env: z.union([z.string(), z.record(z.string(), z.string())]).optional(),
});
const chargesFilter = z.looseObject({ day: z.object({ gte: z.number().int(), lte: z.number().int() }), type: z.object({ in: z.array(z.enum(["instance", "volume", "serverless"])) }).optional() });

const OFFERS = (): Array<Record<string, unknown>> => fixture("vast/search_offers.offers.cli-raw.captured.json");
const errors = () => fixture("vast/create_instance.responses.assembled-from-field-examples.docs.json");

/** The instance record: the captured running excerpt (or the docs' loading example) with this instance's fields. */
function record(i: Inst, s: StandIn): Record<string, unknown> {
  if (i.state === "booting") return { ...fixture("vast/show_instance.response.loading.hello-world.docs.json").instances, id: Number(i.id), label: i.label, intended_status: "running", dph_total: i.bid ?? 0.2466759259259259, is_bid: i.bid !== undefined };
  const running = fixture("vast/show_instance.response.running.captured-excerpt.json").instances;
  const base = { ...running, id: Number(i.id), label: i.label, ssh_host: s.script.ssh.host, ssh_port: s.script.ssh.port, is_bid: i.bid !== undefined, gpu_name: "RTX 4090" };
  if (i.bid !== undefined) base.dph_total = i.bid;
  if (i.state === "outbid") return { ...base, actual_status: "stopped", intended_status: "running", status_msg: "paused: outbid" };
  return base;
}

const live = (s: StandIn) => s.instances.filter((i) => i.state !== "destroyed");
const find = (s: StandIn, id: string) => live(s).find((i) => i.id === id);

export const vastShape: ProviderShape = {
  provider: "vastai",
  badKey: (missing) => (missing ? { status: 403, body: fixture("vast/error.403.no-auth-header.show_invoices.openapi-example.docs.json") } : { status: 404, body: fixture("vast/error.404.invalid-api-key.show_invoices.openapi-example.docs.json") }),
  // The endpoint YAMLs' 429 body; the docs say Vast sends no Retry-After.
  tooMany: (): Answer => ({ status: 429, body: errors()["429"] }),
  routes: [
    {
      method: "POST",
      path: /^\/api\/v0\/bundles\/$/,
      handle(req, s) {
        if (check(s, searchBody, req.body, "search offers")) return { status: 400, body: { error: "invalid_request", msg: "Invalid json body" } };
        const b = req.body as Record<string, { eq?: unknown }>;
        const offers = OFFERS().filter((o) => b.id?.eq === undefined || o.id === b.id.eq);
        return { status: 200, body: { offers } };
      },
    },
    {
      method: "PUT",
      path: /^\/api\/v0\/asks\/(\d+)\/$/,
      handle(req, s, m) {
        if (check(s, createBody, req.body, "create instance")) return { status: 400, body: errors()["400"] };
        const e = errors();
        if (!OFFERS().some((o) => String(o.id) === m[1])) return { status: 404, body: { ...e["404"], ask_id: Number(m[1]), msg: e["404"].msg.replace("1234567", m[1]) } };
        if (s.script.createError === "no-capacity") return { status: 410, body: { ...e["410"], ask_id: Number(m[1]), msg: e["410"].msg.replace("1234567", m[1]) } };
        const body = req.body as { label?: string; price?: number };
        const id = newId("number");
        s.instances.push({ id, label: body.label ?? "", offerId: m[1], state: "booting", polls: 0, createdAt: Date.now(), ...(body.price !== undefined ? { bid: body.price } : {}), request: body });
        return { status: 200, body: { ...fixture("vast/create_instance.response.hello-world.docs.json"), new_contract: Number(id) } };
      },
    },
    {
      method: "GET",
      path: /^\/api\/v0\/instances\/(\d+)\/$/,
      handle(_req, s, m) {
        const i = s.instances.find((x) => x.id === m[1]);
        // After destroy the API answers {"instances": null} (captured transcript).
        if (!i || i.state === "destroyed") return { status: 200, body: { instances: null } };
        nextPoll(i, s);
        return { status: 200, body: { instances: record(i, s) } };
      },
    },
    {
      method: "GET",
      path: /^\/api\/v1\/instances\/$/,
      handle(req, s) {
        const limit = Number(req.query.limit ?? 25);
        if (!(limit > 0 && limit <= 25)) s.violations.push(`show instances: limit ${req.query.limit} (max 25)`);
        const page = fixture("vast/show_instances_v1.response.assembled-from-field-examples.docs.json");
        const rows = live(s).map((i) => ({ ...page.instances[0], ...record(i, s) }));
        return { status: 200, body: { ...page, instances_found: rows.length, total_instances: rows.length, label_counts: {}, next_token: null, instances: rows } };
      },
    },
    {
      method: "DELETE",
      path: /^\/api\/v0\/instances\/(\d+)\/$/,
      handle(_req, s, m) {
        const i = find(s, m[1]);
        if (!i) return { status: 404, body: fixture("vast/destroy_instance.responses.assembled-from-field-examples.docs.json")["404"] };
        i.state = "destroyed";
        i.destroyedAt = Date.now();
        return { status: 200, body: { success: true } };
      },
    },
    {
      method: "GET",
      path: /^\/api\/v0\/charges\/$/,
      handle(req, s) {
        let filter: unknown;
        try {
          filter = JSON.parse(req.query.select_filters ?? "");
        } catch {
          filter = undefined;
        }
        if (check(s, chargesFilter, filter, "show charges select_filters"))
          return { status: 400, body: { success: false, msg: "Must provide both 'day' gte and lte filters for instance charges" } };
        const doc = fixture("vast/show_charges.response.assembled-from-field-examples.docs.json");
        // One row per destroyed instance: what it ran for at its price (the doc row's shape and item breakdown).
        const results = s.instances
          .filter((i) => i.destroyedAt)
          .map((i) => {
            const hours = (i.destroyedAt! - i.createdAt) / 3_600_000;
            const amount = Math.round(hours * (i.bid ?? 0.2466759259259259) * 1e6) / 1e6;
            return { ...doc.results[0], source: `instance-${i.id}`, description: `Instance ${i.id} Charges`, amount, metadata: { label: i.label }, items: [{ ...doc.results[0].items[0], amount }] };
          });
        return { status: 200, body: { ...doc, count: results.length, total: results.length, next_token: null, results } };
      },
    },
  ],
};
