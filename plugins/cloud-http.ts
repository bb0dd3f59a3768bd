// The HTTP client of the cloud plugins: the key goes in a header only (never the URL), JSON in and out, a
// timeout per request, 429 retried after the provider's Retry-After (else a backoff), transient 5xx retried,
// and every failure turned into one line without the key.
import { CloudInputError, CloudRuntimeError } from "./cloud-contract.js";
import type { CloudContext } from "./cloud-contract.js";
import type { z } from "zod";
import { redact } from "./redact.js";
import { intentFromLabel } from "../lib/fleet/rent.js";
import type { LiveInstance } from "../lib/fleet/rent.js";

export interface HttpCall {
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Non-2xx statuses that are answers here, not failures (404 on a lookup: the instance is gone). */
  accept?: number[];
}

export interface HttpAnswer {
  status: number;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  json: unknown;
  text: string;
}

export interface HttpStyle {
  /** Provider name for messages. */
  title: string;
  /** The auth header(s) for a key. */
  auth(key: string): Record<string, string>;
  /**
   * The provider's own error mapping (bad key, no capacity, …) for a non-2xx answer, or a 2xx answer that
   * still says it failed (GraphQL errors). Undefined: the generic mapping below applies.
   */
  classify?(a: HttpAnswer, call: HttpCall): CloudInputError | CloudRuntimeError | undefined;
}

/** Longest Retry-After worth waiting for inside one command; longer is reported instead. */
const MAX_RETRY_WAIT_S = 120;

/** Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - now) / 1000));
}

/** The provider's own words from an error body: msg, detail, error.message, errors[0].message, or the text. */
export function errorDetail(a: HttpAnswer): string {
  const j = a.json as Record<string, unknown> | undefined;
  const pick = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v.trim() : undefined);
  const nested = j?.error && typeof j.error === "object" ? (j.error as Record<string, unknown>) : undefined;
  const errs = Array.isArray(j?.errors) ? (j!.errors as Array<Record<string, unknown>>) : undefined;
  const d = pick(j?.msg) ?? pick(j?.detail) ?? pick(nested?.message) ?? pick(errs?.[0]?.message) ?? pick(j?.error) ?? pick(a.text) ?? "";
  return d.split("\n")[0].slice(0, 240);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function cloudRequest(ctx: CloudContext, style: HttpStyle, call: HttpCall): Promise<HttpAnswer> {
  const base = ctx.baseUrl.replace(/\/+$/, "");
  const qs = call.query && Object.keys(call.query).length ? `?${new URLSearchParams(call.query)}` : "";
  const url = `${base}${call.path}${qs}`;
  const where = `${call.method} ${call.path}`;
  const clean = (s: string) => redact(s, [ctx.key]);
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method: call.method,
        headers: { accept: "application/json", ...(call.body !== undefined ? { "content-type": "application/json" } : {}), ...(ctx.key ? style.auth(ctx.key) : {}) },
        body: call.body !== undefined ? JSON.stringify(call.body) : undefined,
        signal: AbortSignal.timeout(ctx.timeoutMs),
        redirect: "error",
      });
    } catch (e) {
      const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
      const why = (e as Error).name === "TimeoutError" ? `no answer within ${ctx.timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new CloudRuntimeError("network", clean(`${style.title}: cannot reach ${new URL(base).host} (${why})`));
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const a: HttpAnswer = { status: res.status, json, text };
    if (res.status === 429) {
      const wait = retryAfterSeconds(res.headers.get("retry-after"));
      if (attempt < ctx.retries && (wait ?? 0) <= MAX_RETRY_WAIT_S) {
        await sleep(wait !== undefined ? wait * 1000 : 1000 * 2 ** attempt);
        continue;
      }
      throw new CloudRuntimeError(
        "rate-limited",
        clean(`${style.title}: rate limited (HTTP 429 on ${where}${wait !== undefined ? `, retry after ${wait} s` : ""}); try again later`),
      );
    }
    if ([502, 503, 504].includes(res.status) && attempt < ctx.retries) {
      await sleep(1000 * 2 ** attempt);
      continue;
    }
    const own = style.classify?.(a, call);
    if (own) {
      own.message = clean(own.message);
      throw own;
    }
    if (res.ok || call.accept?.includes(res.status)) return a;
    const detail = errorDetail(a);
    if (res.status === 401 || res.status === 403)
      throw new CloudInputError("bad-key", clean(`${style.title}: the API key was refused (HTTP ${res.status}${detail ? `: ${detail}` : ""})`));
    throw new CloudRuntimeError("provider-error", clean(`${style.title}: HTTP ${res.status} on ${where}${detail ? `: ${detail}` : ""}`));
  }
}

/** Bearer authentication, as all three providers document it. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** A provider's answer checked against its documented shape: a format change fails here, by name. */
export function parseAnswer<T>(title: string, schema: z.ZodType<T>, a: HttpAnswer, what: string): T {
  const r = schema.safeParse(a.json);
  if (!r.success) throw new CloudRuntimeError("provider-error", `${title}: unexpected ${what} answer: ${r.error.issues[0].path.join(".") || "(body)"}: ${r.error.issues[0].message}`);
  return r.data;
}

/** The rows of a provider's instance list that parse and carry an hwledger tag, as instance records. */
export function taggedRows<R>(rows: unknown[], schema: z.ZodType<R>, label: (r: R) => string | null | undefined, toLive: (r: R) => LiveInstance): LiveInstance[] {
  const out: LiveInstance[] = [];
  for (const raw of rows) {
    const r = schema.safeParse(raw);
    if (r.success && intentFromLabel(label(r.data) ?? undefined)) out.push(toLive(r.data));
  }
  return out;
}
