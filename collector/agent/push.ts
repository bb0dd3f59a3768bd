// Sending the spool to `hwledger serve` over mutual TLS (the agent's certificate from the fleet CA). Whatever the
// server does (down, restarting, busy with 503 + Retry-After, a failed write) costs only time: the batch stays in
// the spool and is sent again after a backoff with jitter. A batch the server refuses as invalid (400, 409) would
// be refused forever: it moves to the spool's rejected/ folder and the rest goes on.
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { InputError } from "../../lib/calc/types.js";
import { caFiles, leafFiles } from "../serve/certs.js";
import { SPOOL_CHUNK } from "./spool.js";
import type { Spool } from "./spool.js";

export interface PushTarget {
  url: URL;
  agent: Agent;
}

export function serverUrl(v: string): URL {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InputError(`--server must be an https:// URL, got ${JSON.stringify(v.slice(0, 80))}`);
  }
  if (u.protocol !== "https:" || u.username || u.password) throw new InputError(`--server must be an https:// URL without credentials, got ${JSON.stringify(v.slice(0, 80))}`);
  return u;
}

/** A keep-alive HTTPS client presenting NAME's certificate and trusting only the fleet CA. */
export async function pushTarget(server: string, certs: string, name: string): Promise<PushTarget> {
  const url = serverUrl(server);
  const ca = caFiles(certs);
  const own = leafFiles(certs, name);
  const [caPem, cert, key] = await Promise.all([readFile(ca.cert), readFile(own.cert), readFile(own.key)]).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`--certs ${certs}: cannot read ca.pem, ${name}.pem or ${name}-key.pem (${e.code ?? "unreadable"})`);
  });
  return { url, agent: new Agent({ keepAlive: true, maxSockets: 1, ca: caPem, cert, key }) };
}

interface Answer {
  status: number;
  retryAfterS?: number;
  error?: string;
}

/** One POST of NDJSON; a network failure is status 0. */
export function post(t: PushTarget, body: string | Buffer, timeoutMs = 60_000): Promise<Answer> {
  return new Promise((resolve) => {
    let sent = false;
    const req = request(
      new URL("/v1/events", t.url),
      // Expect: 100-continue: a busy server answers 503 before the body is sent, so backing off costs no upload.
      { method: "POST", agent: t.agent, headers: { "content-type": "application/x-ndjson", "content-length": Buffer.byteLength(body), expect: "100-continue" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d.length < 4096 ? d : ""));
        res.on("end", () => {
          // Answered before the body went out (a 503 to Expect: 100-continue): this connection cannot be reused.
          if (!sent) req.destroy();
          const ra = Number(res.headers["retry-after"]);
          let error: string | undefined;
          try {
            error = (JSON.parse(text) as { error?: string }).error;
          } catch {
            // not JSON: no message
          }
          resolve({ status: res.statusCode ?? 0, retryAfterS: Number.isFinite(ra) ? ra : undefined, error });
        });
        res.on("error", (e) => resolve({ status: 0, error: e.message }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timed out")));
    req.on("error", (e) => resolve({ status: 0, error: e.message }));
    req.on("continue", () => {
      sent = true;
      req.end(body);
    });
  });
}

/**
 * Wait before retry number `attempt` (1, 2, …). A busy server (503) says when to come back (Retry-After): that, plus up
 * to as much again at random so a fleet does not return at once, without growing, since the server is up and
 * writing. Anything else (down, restarting, a failed write): exponential from 250 ms to 30 s, half of it random.
 */
export function backoffMs(attempt: number, retryAfterS?: number): number {
  if (retryAfterS !== undefined) return retryAfterS * 1000 * (1 + Math.random());
  return Math.min(30_000, 250 * 2 ** Math.min(attempt - 1, 10)) * (0.5 + Math.random() * 0.5);
}

export interface DrainResult {
  sent: number;
  rejected: number;
  /** True when the spool is empty; false when the deadline passed first. */
  done: boolean;
  lastError?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the spool until it is empty or the deadline passes (retrying every failure); never loses an event. */
export async function drain(spool: Spool, t: PushTarget, opts: { deadline?: number; onRejected?: (file: string, why: string) => void } = {}): Promise<DrainResult> {
  const r: DrainResult = { sent: 0, rejected: 0, done: false };
  let attempt = 0;
  for (;;) {
    const batch = await spool.take(SPOOL_CHUNK);
    if (batch.count === 0) {
      // Only files already acknowledged to their end (a kill came before their removal): drop them.
      if (batch.files.length > 0) await spool.ack(batch);
      return { ...r, done: true };
    }
    const a = await post(t, batch.body);
    if (a.status === 200) {
      await spool.ack(batch);
      r.sent += batch.count;
      attempt = 0;
      continue;
    }
    if (a.status === 400 || a.status === 409 || a.status === 413) {
      const why = `server refused the batch (${a.status}): ${a.error ?? "no reason given"}`;
      opts.onRejected?.(await spool.reject(batch, why), why);
      r.rejected += batch.count;
      continue;
    }
    r.lastError = a.status === 0 ? (a.error ?? "connection failed") : `HTTP ${a.status}${a.error ? `: ${a.error}` : ""}`;
    const wait = backoffMs(++attempt, a.status === 503 ? a.retryAfterS : undefined);
    if (opts.deadline !== undefined && Date.now() + wait > opts.deadline) return r;
    await sleep(wait);
  }
}
