// Lambda Cloud stand-in: instance types, launch, instances, terminate, with the spec's {data} / {error} envelopes.
import { z } from "zod";
import { check, fixture, newId, nextPoll } from "./core.js";
import type { Answer, Inst, ProviderShape, StandIn } from "./core.js";

// The launch request of the Lambda docs (launch.request.docs.json) plus `name`; quantity above 1 is refused
// ("quantity: Input should be less than or equal to 1", a real error in the shared samples).
const launchBody = z.strictObject({
  region_name: z.string().min(1),
  instance_type_name: z.string().min(1),
  ssh_key_names: z.array(z.string().min(1)).length(1),
  file_system_names: z.array(z.string()).optional(),
  quantity: z.literal(1).optional(),
  name: z.string().min(1).max(64).optional(),
});
const terminateBody = z.strictObject({ instance_ids: z.array(z.string().min(1)).min(1) });

const errorOf = (name: string, status: number): Answer => ({ status, body: { error: fixture("lambda/errors.official-spec-defaults.via-speakeasy-sdk.json")[name] } });

/** instance-types: the assembled official item, with a region name added (the spec gives only its description). */
function instanceTypes(): Record<string, unknown> {
  const item = fixture("lambda/instance-types.item.assembled-from-official-field-examples.json");
  const regions = item.regions_with_capacity_available.map((r: object) => ({ ...r, name: "us-west-1" }));
  return { data: { [item.instance_type.name]: { ...item, regions_with_capacity_available: regions } } };
}

function instance(i: Inst, s: StandIn): Record<string, unknown> {
  const doc = fixture("lambda/instance.get.response.assembled-from-official-field-examples.json").data;
  const status = i.state === "booting" ? "booting" : i.state === "destroyed" ? "terminated" : "active";
  return { ...doc, id: i.id, name: i.label, hostname: i.label, ssh_key_names: i.request.ssh_key_names, status, ip: status === "active" ? s.script.ssh.host : null };
}

const live = (s: StandIn) => s.instances.filter((i) => i.state !== "destroyed");

export const lambdaShape: ProviderShape = {
  provider: "lambda",
  badKey: () => errorOf("APIErrorUnauthorized", 401),
  tooMany: () => ({ status: 429, body: { error: { code: "global/unknown", message: "Too many requests" } } }),
  routes: [
    { method: "GET", path: /^\/api\/v1\/instance-types$/, handle: () => ({ status: 200, body: instanceTypes() }) },
    {
      method: "POST",
      path: /^\/api\/v1\/instance-operations\/launch$/,
      handle(req, s) {
        if (check(s, launchBody, req.body, "launch")) return errorOf("APIErrorInvalidParameters", 400);
        const body = req.body as z.infer<typeof launchBody>;
        const known = Object.keys((instanceTypes() as { data: object }).data);
        if (!known.includes(body.instance_type_name)) return errorOf("APIErrorLaunchResourceNotFound", 404);
        if (s.script.createError === "no-capacity") return errorOf("APIErrorInsufficientCapacity", 400);
        const i: Inst = { id: newId("hex"), label: body.name ?? "", offerId: body.instance_type_name, state: "booting", polls: 0, createdAt: Date.now(), request: body };
        s.instances.push(i);
        return { status: 200, body: { data: { ...fixture("lambda/launch.response.assembled-from-official-field-examples.json").data, instance_ids: [i.id] } } };
      },
    },
    {
      method: "GET",
      path: /^\/api\/v1\/instances\/([^/]+)$/,
      handle(_req, s, m) {
        const i = live(s).find((x) => x.id === m[1]);
        if (!i) return errorOf("APIErrorInstanceNotFound", 404);
        nextPoll(i, s);
        return { status: 200, body: { data: instance(i, s) } };
      },
    },
    { method: "GET", path: /^\/api\/v1\/instances$/, handle: (_req, s) => ({ status: 200, body: { data: live(s).map((i) => instance(i, s)) } }) },
    {
      method: "POST",
      path: /^\/api\/v1\/instance-operations\/terminate$/,
      handle(req, s) {
        if (check(s, terminateBody, req.body, "terminate")) return errorOf("APIErrorInvalidParameters", 400);
        const ids = (req.body as { instance_ids: string[] }).instance_ids;
        const found = live(s).filter((i) => ids.includes(i.id));
        if (found.length !== ids.length) return errorOf("APIErrorInstanceNotFound", 404);
        for (const i of found) {
          i.state = "destroyed";
          i.destroyedAt = Date.now();
        }
        return { status: 200, body: { data: { terminated_instances: found.map((i) => instance(i, s)) } } };
      },
    },
  ],
};
