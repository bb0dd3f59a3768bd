// Lambda Cloud answers, checked by zod and mapped to hwledger's instance record and error codes. Envelope
// {data} / {error: {code, message, suggestion}} and the error codes: the Cloud API spec (lambda-cloud-sdk
// README summary, openapi v1.5.3 errorCode); instance fields and statuses: the instance schema (SOURCES.md).
import { z } from "zod";
import { CloudInputError, CloudRuntimeError } from "../cloud-contract.js";
import type { HttpAnswer, HttpCall } from "../cloud-http.js";
import { errorDetail, parseAnswer } from "../cloud-http.js";
import type { InstanceState, LiveInstance } from "../../lib/fleet/rent.js";

export const TITLE = "Lambda Cloud";

export const lambdaInstanceSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().nullable().optional(),
  ip: z.string().nullable().optional(),
  status: z.string(),
  instance_type: z.looseObject({ name: z.string().optional(), price_cents_per_hour: z.union([z.number(), z.string()]).optional(), gpu_description: z.string().optional() }).optional(),
});
export type LambdaInstance = z.infer<typeof lambdaInstanceSchema>;

export const instanceAnswerSchema = z.looseObject({ data: lambdaInstanceSchema });
export const listAnswerSchema = z.looseObject({ data: z.array(z.unknown()) });
export const launchAnswerSchema = z.looseObject({ data: z.looseObject({ instance_ids: z.array(z.string()).min(1) }) });

/** instance.status: booting, active, unhealthy, terminating, terminated. */
export function lambdaState(status: string): InstanceState {
  if (status === "active") return "running";
  if (status === "terminating" || status === "terminated") return "terminated";
  return "pending";
}

/** Lambda VMs answer SSH on the instance's IPv4 address, port 22, as ubuntu (Lambda Stack images). */
export function toLive(i: LambdaInstance, user: string): LiveInstance {
  const state = lambdaState(i.status);
  const cents = Number(i.instance_type?.price_cents_per_hour);
  return {
    provider: "lambda",
    instanceId: i.id,
    ...(i.name ? { label: i.name } : {}),
    state,
    providerState: i.status,
    ...(Number.isFinite(cents) ? { perHour: cents / 100 } : {}),
    ...(state === "running" && i.ip ? { ssh: { host: i.ip, port: 22, user } } : {}),
    ...(i.instance_type?.gpu_description ? { gpuName: i.instance_type.gpu_description } : {}),
  };
}

export const parseWith = <T>(schema: z.ZodType<T>, a: HttpAnswer, what: string): T => parseAnswer(TITLE, schema, a, what);

/** Branches on error.code, as the spec asks (message and suggestion may change). */
export function classify(a: HttpAnswer, call: HttpCall): CloudInputError | CloudRuntimeError | undefined {
  const code = (a.json as { error?: { code?: string } } | undefined)?.error?.code ?? "";
  const detail = errorDetail(a);
  if (code === "global/invalid-api-key" || a.status === 401)
    return new CloudInputError("bad-key", `${TITLE}: the API key was refused (HTTP ${a.status}: ${detail || "unauthorized"}); check $LAMBDA_API_KEY`);
  if (code === "instance-operations/launch/insufficient-capacity") return new CloudRuntimeError("no-capacity", `${TITLE}: no capacity: ${detail}`);
  const launching = call.path.endsWith("/instance-operations/launch");
  if (launching && code === "global/object-does-not-exist") return new CloudInputError("unknown-offer", `${TITLE}: unknown instance type, region or SSH key: ${detail}`);
  if (code === "global/invalid-parameters" || a.status === 400) return new CloudInputError("bad-request", `${TITLE}: request refused (${code || `HTTP ${a.status}`}: ${detail})`);
  if (code === "global/account-inactive" || code === "global/quota-exceeded" || code === "global/invalid-address")
    return new CloudRuntimeError("provider-error", `${TITLE}: ${detail} (${code})`);
  return undefined;
}
