// RunPod answers, checked by zod and mapped to hwledger's instance record and error codes. Pods: REST API v2
// (runpod/docs api-reference-v2/openapi.json, schemas Pod, ErrorResponse; problem+json errors); offers: the
// GraphQL gpuTypes query, parsed by the RunPod price plugin (SOURCES.md).
import { z } from "zod";
import { CloudInputError, CloudRuntimeError } from "../cloud-contract.js";
import type { HttpAnswer, HttpCall } from "../cloud-http.js";
import { errorDetail, parseAnswer } from "../cloud-http.js";
import type { InstanceState, LiveInstance } from "../../lib/fleet/rent.js";

export const TITLE = "RunPod";

const sshEndpoint = z.looseObject({ host: z.string(), port: z.number().int(), username: z.string().optional() });

export const podSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().nullable().optional(),
  status: z.string(),
  cost: z.number().nullable().optional(),
  gpu: z.looseObject({ id: z.string(), count: z.number().int().optional() }).nullable().optional(),
  ssh: z.looseObject({ direct: sshEndpoint.nullable().optional(), proxy: sshEndpoint.nullable().optional() }).nullable().optional(),
});
export type Pod = z.infer<typeof podSchema>;

export const listPodsSchema = z.looseObject({ pods: z.array(z.unknown()) });
export const podBillingSchema = z.looseObject({ records: z.array(z.looseObject({ podId: z.string().optional(), totalAmount: z.number() })) });
export const gpuTypesAnswerSchema = z.looseObject({ data: z.looseObject({ gpuTypes: z.array(z.unknown()) }) });

/** Pod.status (openapi Pod.status): PROVISIONING, STARTING, RUNNING, EXITED (stopped, disk kept), ERROR, TERMINATED. */
export function podState(status: string): InstanceState {
  switch (status) {
    case "RUNNING":
      return "running";
    case "EXITED":
      return "stopped";
    case "ERROR":
      return "failed";
    case "TERMINATED":
      return "terminated";
    default:
      return "pending";
  }
}

/**
 * SSH through the pod's published 22/tcp (ssh.direct). RunPod's proxy (ssh.runpod.io) gives an interactive shell
 * only — no remote commands — so the launcher cannot use it; a pod without ssh.direct is not ready yet.
 */
export function toLive(p: Pod, user: string): LiveInstance {
  const state = podState(p.status);
  const d = state === "running" ? p.ssh?.direct : undefined;
  return {
    provider: "runpod",
    instanceId: p.id,
    ...(p.name ? { label: p.name } : {}),
    state,
    providerState: p.status,
    ...(typeof p.cost === "number" ? { perHour: p.cost } : {}),
    ...(d && d.port > 0 ? { ssh: { host: d.host, port: d.port, user: d.username || user } } : {}),
    ...(p.gpu?.id ? { gpuName: p.gpu.id } : {}),
  };
}

export const parseWith = <T>(schema: z.ZodType<T>, a: HttpAnswer, what: string): T => parseAnswer(TITLE, schema, a, what);

// The capacity refusals RunPod sends: "There are no longer any instances available with the requested
// specifications" (REST v2 400, and GraphQL SUPPLY_CONSTRAINT) and "There are not enough free GPUs on the host".
const NO_CAPACITY = /no longer any instances available|not enough free gpus|SUPPLY_CONSTRAINT/i;

/**
 * REST v2 errors are problem+json {title, status, detail}: 401 missing/invalid bearer, 403, 404, 422 validation.
 * GraphQL answers 200 with {errors: [{message, extensions: {code}}]}, and 401 for a bad key (runpod-python
 * api/graphql.py).
 */
export function classify(a: HttpAnswer, call: HttpCall): CloudInputError | CloudRuntimeError | undefined {
  const detail = errorDetail(a);
  const gqlErrors = (a.json as { errors?: Array<{ message?: string; extensions?: { code?: string } }> } | undefined)?.errors;
  const code = gqlErrors?.[0]?.extensions?.code ?? "";
  if (a.status === 401 || a.status === 403 || /unauthori[sz]ed/i.test(code))
    return new CloudInputError("bad-key", `${TITLE}: the API key was refused (HTTP ${a.status}: ${detail || "unauthorized"}); check $RUNPOD_API_KEY or ~/.runpod/config.toml`);
  if (NO_CAPACITY.test(detail) || NO_CAPACITY.test(code)) return new CloudRuntimeError("no-capacity", `${TITLE}: no capacity: ${detail}`);
  const creating = call.method === "POST" && call.path === "/v2/pods";
  if (creating && a.status === 404) return new CloudInputError("unknown-offer", `${TITLE}: unknown GPU type or data center: ${detail}`);
  if (a.status === 400 || a.status === 422) return new CloudInputError("bad-request", `${TITLE}: request refused (HTTP ${a.status}: ${detail})`);
  if (a.status === 200 && gqlErrors?.length) return new CloudRuntimeError("provider-error", `${TITLE}: ${detail}`);
  return undefined;
}
