// RunPod stand-in: the GraphQL gpuTypes query and the REST API v2 pod and billing endpoints hwledger calls.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { check, fixture, newId, nextPoll } from "./core.js";
import type { Answer, Inst, ProviderShape, StandIn } from "./core.js";

// Real gpuTypes answers (Jumbo2020/gpu_prices, see plugins/price-runpod/SOURCES.md): the GraphQL data hwledger parses.
const GPU_TYPES = JSON.parse(readFileSync(fileURLToPath(new URL("../../../plugins/price-runpod/snapshot.json", import.meta.url)), "utf8")) as Array<Record<string, any>>;

// CreatePodRequest (api-reference-v2/openapi.json): unevaluatedProperties false.
const createBody = z.strictObject({
  name: z.string().min(1),
  image: z.string().min(1),
  gpu: z.strictObject({ id: z.string().min(1), count: z.number().int().min(1).optional(), allowedCudaVersions: z.array(z.string()).optional() }),
  cloud: z.enum(["SECURE", "COMMUNITY"]).optional(),
  disk: z.number().int().min(1).optional(),
  ports: z.array(z.string().regex(/^\d+\/(tcp|http|udp)$/)).optional(),
  env: z.record(z.string(), z.string()).optional(),
  startSsh: z.boolean().optional(),
  startJupyter: z.boolean().optional(),
  dataCenterIds: z.array(z.string()).optional(),
});
const billingQuery = z.strictObject({ podId: z.string().min(1), startTime: z.iso.datetime(), endTime: z.iso.datetime(), bucketSize: z.enum(["hour", "day", "week", "month", "year"]).optional() });
const problem = (rel: string): Answer => {
  const b = fixture(rel);
  return { status: b.status, body: b, headers: { "content-type": "application/problem+json" } };
};

function priceOf(i: Inst): number {
  const t = GPU_TYPES.find((g) => g.id === i.request.gpu.id);
  return (i.request.cloud === "COMMUNITY" ? t?.communityPrice : t?.securePrice) ?? 0;
}

/** The pod record: the docs' create (PROVISIONING) or get (RUNNING) example with this pod's fields. */
function pod(i: Inst, s: StandIn): Record<string, unknown> {
  const mine = { id: i.id, name: i.label, image: i.request.image, gpu: { id: i.request.gpu.id, count: i.request.gpu.count ?? 1 }, cloud: i.request.cloud ?? "SECURE", cost: priceOf(i) };
  if (i.state === "booting") return { ...fixture("runpod/rest-v2.create-pod.response-201.openapi-example.docs.json"), ...mine };
  const running = fixture("runpod/rest-v2.get-pod.response-200.openapi-example.docs.json");
  const { host, port, user } = s.script.ssh;
  return {
    ...running,
    ...mine,
    ssh: { ...running.ssh, direct: { host, port, username: user, command: `ssh ${user}@${host} -p ${port}` } },
    runtime: { ...running.runtime, ports: [{ private: 22, public: port, type: "tcp", ip: host }] },
  };
}

const live = (s: StandIn) => s.instances.filter((i) => i.state !== "destroyed");

export const runpodShape: ProviderShape = {
  provider: "runpod",
  badKey: () => problem("runpod/rest-v2.error.401.openapi-example.docs.json"),
  // The v2 429 carries Retry-After (the docs' example says 12 s; 1 s here keeps the test short).
  tooMany: () => ({ ...problem("runpod/rest-v2.error.429.openapi-example.docs.json"), headers: { "content-type": "application/problem+json", "retry-after": "1" } }),
  routes: [
    {
      method: "POST",
      path: /^\/graphql$/,
      handle(req, s) {
        const q = (req.body as { query?: unknown })?.query;
        if (typeof q !== "string" || !/gpuTypes\s*\{/.test(q)) {
          s.violations.push(`graphql: unexpected query ${JSON.stringify(q)}`);
          return { status: 200, body: { errors: [{ message: "Cannot query field" }] } };
        }
        return { status: 200, body: { data: { gpuTypes: GPU_TYPES } } };
      },
    },
    {
      method: "POST",
      path: /^\/v2\/pods$/,
      handle(req, s) {
        if (check(s, createBody, req.body, "create pod")) return problem("runpod/rest-v2.error.422.openapi-example.docs.json");
        const body = req.body as { name: string; gpu: { id: string } };
        if (!GPU_TYPES.some((g) => g.id === body.gpu.id)) return problem("runpod/rest-v2.error.404.openapi-example.docs.json");
        if (s.script.createError === "no-capacity") return { status: 400, body: fixture("runpod/rest-v2.error.400-capacity.runpod-launcher-test.claimed-real.json") };
        const i: Inst = { id: newId("pod"), label: body.name, offerId: body.gpu.id, state: "booting", polls: 0, createdAt: Date.now(), request: body };
        s.instances.push(i);
        return { status: 201, body: pod(i, s) };
      },
    },
    {
      method: "GET",
      path: /^\/v2\/pods\/([^/]+)$/,
      handle(_req, s, m) {
        const i = live(s).find((x) => x.id === m[1]);
        if (!i) return problem("runpod/rest-v2.error.404.openapi-example.docs.json");
        nextPoll(i, s);
        return { status: 200, body: pod(i, s) };
      },
    },
    {
      method: "GET",
      path: /^\/v2\/pods$/,
      handle(_req, s) {
        const doc = fixture("runpod/rest-v2.list-pods.response-200.openapi-example.docs.json");
        return { status: 200, body: { ...doc, pods: live(s).map((i) => pod(i, s)) } };
      },
    },
    {
      method: "DELETE",
      path: /^\/v2\/pods\/([^/]+)$/,
      handle(_req, s, m) {
        const i = live(s).find((x) => x.id === m[1]);
        if (!i) return problem("runpod/rest-v2.error.404.openapi-example.docs.json");
        i.state = "destroyed";
        i.destroyedAt = Date.now();
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: /^\/v2\/billing\/pods$/,
      handle(req, s) {
        if (check(s, billingQuery, req.query, "pod billing query")) return problem("runpod/rest-v2.error.400.openapi-example.docs.json");
        const doc = fixture("runpod/rest-v2.billing-pods.response-200.openapi-example.docs.json");
        const records = s.instances
          .filter((i) => i.id === req.query.podId && i.destroyedAt)
          .map((i) => {
            const total = Math.round(((i.destroyedAt! - i.createdAt) / 3_600_000) * priceOf(i) * 1e6) / 1e6;
            return { ...doc.records[0], startTime: req.query.startTime, endTime: req.query.endTime, podId: i.id, totalAmount: total, gpuAmount: total, cpuAmount: 0, diskAmount: 0 };
          });
        return { status: 200, body: { ...doc, records, metadata: { ...doc.metadata, recordCount: records.length } } };
      },
    },
  ],
};
