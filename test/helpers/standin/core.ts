// A local stand-in for a cloud provider's API on 127.0.0.1: answers with the provider's own documented or
// captured bodies (test/fixtures/cloud-api, SOURCES.md), keeps instances in memory, and checks every request it
// receives (method, path, Bearer header, body shape per the provider's docs). What it saw is kept for the test.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { z } from "zod";

export const FIXTURES = fileURLToPath(new URL("../../fixtures/cloud-api/", import.meta.url));

/** A fixture body, parsed afresh each time (the stand-in edits copies). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fixture(rel: string): any {
  return JSON.parse(readFileSync(FIXTURES + rel, "utf8"));
}

export interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  auth: string | undefined;
  rawUrl: string;
  body: unknown;
  at: number;
}

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Inst {
  id: string;
  label: string;
  offerId: string;
  /** booting until `loadingPolls` lookups have answered, then running (or what the script says). */
  state: "booting" | "running" | "outbid" | "failed" | "destroyed";
  polls: number;
  createdAt: number;
  destroyedAt?: number;
  bid?: number;
  request: any;
}

export interface Script {
  /** Lookups answered "still booting" before an instance runs. */
  loadingPolls: number;
  /** Where the instance's SSH answers: the test's sshd. */
  ssh: { host: string; port: number; user: string };
  neverRunning?: boolean;
  /** Interruptible instances lose their bid as soon as they start. */
  outbid?: boolean;
  createError?: "no-capacity";
  /** Answer 429 to the next `times` requests matching `path` (all when no path). */
  rateLimit?: { times: number; path?: RegExp };
  /** A careless provider: its refusals quote the Authorization header it got (tests hwledger's redaction). */
  echoAuth?: boolean;
}

/** Appends `text` to the first msg/detail/message string in a body (the provider's own error text). */
function quote(body: unknown, text: string): unknown {
  if (!body || typeof body !== "object") return body;
  const o = { ...(body as Record<string, unknown>) };
  for (const k of ["msg", "detail", "message"]) if (typeof o[k] === "string") return { ...o, [k]: `${o[k]} (got ${text})` };
  for (const [k, v] of Object.entries(o)) if (v && typeof v === "object") return { ...o, [k]: quote(v, text) };
  return o;
}

export interface StandIn {
  provider: string;
  url: string;
  key: string;
  seen: Seen[];
  violations: string[];
  instances: Inst[];
  script: Script;
  close(): Promise<void>;
}

export interface Route {
  method: string;
  path: RegExp;
  handle(req: Seen, s: StandIn, m: RegExpExecArray): Answer;
}

export interface ProviderShape {
  provider: string;
  routes: Route[];
  /** The provider's answer to a missing or unknown key. */
  badKey(missing: boolean): Answer;
  tooMany(): Answer;
}

/** Checks a request body against the documented shape; a mismatch is a violation and a 400. */
export function check(s: StandIn, schema: z.ZodType, body: unknown, what: string): string | undefined {
  const r = schema.safeParse(body);
  if (r.success) return undefined;
  const msg = `${what}: ${r.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")}`;
  s.violations.push(msg);
  return msg;
}

export function nextPoll(inst: Inst, s: StandIn): Inst["state"] {
  if (inst.state === "booting") {
    inst.polls++;
    if (inst.polls > s.script.loadingPolls && !s.script.neverRunning) inst.state = inst.bid !== undefined && s.script.outbid ? "outbid" : "running";
  }
  return inst.state;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startStandIn(shape: ProviderShape, key: string, script: Partial<Script> & Pick<Script, "ssh">): Promise<StandIn> {
  const s: StandIn = { provider: shape.provider, url: "", key, seen: [], violations: [], instances: [], script: { loadingPolls: 1, ...script }, close: async () => undefined };
  const send = (res: ServerResponse, a: Answer) => {
    const text = a.body === undefined ? "" : typeof a.body === "string" ? a.body : JSON.stringify(a.body);
    res.writeHead(a.status, { ...(text && typeof a.body !== "string" ? { "content-type": "application/json" } : {}), ...a.headers });
    res.end(text);
  };
  const server = createServer(async (req, res) => {
    const u = new URL(req.url ?? "/", "http://127.0.0.1");
    const text = await readBody(req);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      s.violations.push(`${req.method} ${u.pathname}: body is not JSON`);
    }
    const seen: Seen = { method: req.method ?? "", path: u.pathname, query: Object.fromEntries(u.searchParams), auth: req.headers.authorization, rawUrl: req.url ?? "", body, at: Date.now() };
    s.seen.push(seen);
    if (seen.rawUrl.includes(key) || seen.rawUrl.includes(encodeURIComponent(key))) s.violations.push(`${seen.method} ${seen.path}: the API key is in the URL`);
    if (text && req.headers["content-type"] !== "application/json") s.violations.push(`${seen.method} ${seen.path}: content-type ${req.headers["content-type"]}`);
    if (!seen.auth) {
      s.violations.push(`${seen.method} ${seen.path}: no Authorization header`);
      return send(res, shape.badKey(true));
    }
    if (seen.auth !== `Bearer ${key}`) {
      const a = shape.badKey(false);
      return send(res, s.script.echoAuth ? { ...a, body: quote(a.body, seen.auth) } : a);
    }
    const rl = s.script.rateLimit;
    if (rl && rl.times > 0 && (!rl.path || rl.path.test(seen.path))) {
      rl.times--;
      return send(res, shape.tooMany());
    }
    for (const r of shape.routes) {
      const m = r.method === seen.method ? r.path.exec(seen.path) : null;
      if (m) return send(res, r.handle(seen, s, m));
    }
    s.violations.push(`no such endpoint: ${seen.method} ${seen.path}`);
    send(res, { status: 404, body: { error: "not_found" } });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return s;
}

let counter = 0;
/** Provider-looking instance ids (Vast numbers, RunPod/Lambda strings). */
export function newId(kind: "number" | "pod" | "hex"): string {
  counter++;
  if (kind === "number") return String(36717000 + counter);
  if (kind === "pod") return `7h9k2m4n${String(counter).padStart(2, "0")}`;
  return `0920582c7ff041399e34823a0be625${String(counter).padStart(2, "0")}`;
}
