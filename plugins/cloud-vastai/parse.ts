// Vast.ai answers, checked by zod and mapped to hwledger's instance record and error codes. Field names and
// meanings: vast-ai/docs api-reference/openapi/yaml (show_instance.yaml, show_instances.yaml, create_instance.yaml,
// destroy_instance.yaml, show_charges.yaml); statuses from the docs' show-instances reference (SOURCES.md).
import { z } from "zod";
import { CloudInputError, CloudRuntimeError } from "../cloud-contract.js";
import type { HttpAnswer, HttpCall } from "../cloud-http.js";
import { errorDetail, parseAnswer } from "../cloud-http.js";
import type { InstanceState, LiveInstance } from "../../lib/fleet/rent.js";

export const TITLE = "Vast.ai";

const portMap = z.record(z.string(), z.array(z.looseObject({ HostPort: z.union([z.string(), z.number()]).optional() })).nullable());

export const vastInstanceSchema = z.looseObject({
  id: z.number().int(),
  actual_status: z.string().nullable().optional(),
  intended_status: z.string().nullable().optional(),
  label: z.string().nullable().optional(),
  ssh_host: z.string().nullable().optional(),
  ssh_port: z.number().int().nullable().optional(),
  public_ipaddr: z.string().nullable().optional(),
  // The docs' example lists container ports as numbers; a real capture maps "22/tcp" to host ports.
  ports: z.union([portMap, z.array(z.unknown())]).nullable().optional(),
  dph_total: z.number().nullable().optional(),
  is_bid: z.boolean().nullable().optional(),
  gpu_name: z.string().nullable().optional(),
  status_msg: z.string().nullable().optional(),
});
export type VastInstance = z.infer<typeof vastInstanceSchema>;

/**
 * Vast's container states (docs, show-instances): null = provisioning, loading, running, stopped (disk still
 * billed), frozen, exited (the container died), rebooting, unknown (no heartbeat), offline (host disconnected).
 * An interruptible instance that loses its bid is paused by the host while it still intends to run ("Lower
 * priority instances are paused until they become the highest priority", docs: Instance details).
 */
export function vastState(i: VastInstance): InstanceState {
  const s = i.actual_status ?? null;
  if (s === "running") return "running";
  if (s === "stopped" || s === "frozen") return i.is_bid && i.intended_status === "running" ? "outbid" : "stopped";
  if (s === "exited") return "failed";
  return "pending";
}

/** SSH: the direct port mapping of 22/tcp when the instance has one, else Vast's SSH proxy (ssh_host:ssh_port). */
export function vastSsh(i: VastInstance, user: string): LiveInstance["ssh"] {
  const p22 = i.ports && !Array.isArray(i.ports) ? i.ports["22/tcp"]?.[0]?.HostPort : undefined;
  if (p22 !== undefined && i.public_ipaddr && Number(p22) > 0) return { host: i.public_ipaddr.trim(), port: Number(p22), user };
  if (i.ssh_host && i.ssh_port && i.ssh_port > 0 && i.ssh_host !== "...") return { host: i.ssh_host, port: i.ssh_port, user };
  return undefined;
}

export function toLive(i: VastInstance, user: string): LiveInstance {
  const state = vastState(i);
  const ssh = state === "running" ? vastSsh(i, user) : undefined;
  return {
    provider: "vastai",
    instanceId: String(i.id),
    ...(i.label ? { label: i.label } : {}),
    state,
    providerState: i.actual_status ?? "provisioning",
    ...(typeof i.dph_total === "number" ? { perHour: i.dph_total } : {}),
    ...(ssh ? { ssh } : {}),
    ...(i.gpu_name ? { gpuName: i.gpu_name } : {}),
    ...(i.status_msg ? { message: i.status_msg } : {}),
  };
}

export const createAnswerSchema = z.looseObject({ success: z.boolean(), new_contract: z.number().int().optional() });
export const showInstanceSchema = z.looseObject({ instances: vastInstanceSchema.nullable() });
export const listInstancesSchema = z.looseObject({ instances: z.array(z.unknown()).nullable(), next_token: z.string().nullable().optional() });
export const chargesSchema = z.looseObject({
  results: z.array(z.looseObject({ source: z.string().nullable().optional(), amount: z.number(), type: z.string().optional() })),
  next_token: z.string().nullable().optional(),
});

export const parseWith = <T>(schema: z.ZodType<T>, a: HttpAnswer, what: string): T => parseAnswer(TITLE, schema, a, what);

/**
 * Vast's error bodies: {success:false, error, msg}. An unknown key is 404 "Invalid user key" (or 401), a missing
 * one 403 "This action requires login" (show_invoices.yaml); create answers 404 no_such_ask for an offer that is
 * not available and 410 when it is no longer available (create_instance.yaml); 400 invalid_price / invalid_args.
 */
export function classify(a: HttpAnswer, call: HttpCall): CloudInputError | CloudRuntimeError | undefined {
  const j = (a.json ?? {}) as { error?: string; msg?: string; success?: boolean };
  const detail = errorDetail(a);
  if (j.error === "auth_error" || /invalid user key|requires login/i.test(detail) || a.status === 401)
    return new CloudInputError("bad-key", `${TITLE}: the API key was refused (HTTP ${a.status}: ${detail || "unauthorized"}); check $VAST_API_KEY or ~/.config/vastai/vast_api_key`);
  const creating = call.method === "PUT" && call.path.startsWith("/api/v0/asks/");
  if (creating && (a.status === 410 || /no longer available/i.test(detail)))
    return new CloudRuntimeError("no-capacity", `${TITLE}: no capacity: the offer is no longer available (${detail}); pick another offer`);
  if (creating && (a.status === 404 || j.error === "no_such_ask"))
    return new CloudInputError("unknown-offer", `${TITLE}: unknown offer: ${detail || "not available"}`);
  if (creating && j.error === "invalid_price") return new CloudInputError("bad-request", `${TITLE}: the price was refused: ${detail}`);
  if (a.status === 400) return new CloudInputError("bad-request", `${TITLE}: request refused (HTTP 400${detail ? `: ${detail}` : ""})`);
  if (a.status >= 200 && a.status < 300 && j.success === false) return new CloudRuntimeError("provider-error", `${TITLE}: ${detail || "the request failed"}`);
  return undefined;
}
