// `hwledger serve`: the central ledger's HTTPS front door. Mutual TLS only: a client must present a certificate
// signed by the fleet CA (collector/serve/certs.ts); its CN is the ledger host of everything it sends.
//   POST /v1/events   a batch (collector/serve/ingest.ts) → 200 {"acknowledged": n} once durably written;
//                     400 bad batch (nothing written), 409 an id already stored with other content, 413 too large,
//                     503 + Retry-After when the write queue is full, 500 when the write failed (resend).
//   GET /healthz      200 while serving;  GET /metrics  Prometheus text.
import { readFile } from "node:fs/promises";
import { createServer } from "node:https";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { InputError } from "../../lib/calc/types.js";
import { LedgerConflict } from "../../lib/ledger/index.js";
import { CERT_NAME_RE, caFiles, leafFiles } from "./certs.js";
import { GroupCommit } from "./commit.js";
import type { CheckRequest } from "./check-thread.js";
import type { CheckedBatch } from "./ingest.js";
import { ThreadCalls } from "../../lib/thread.js";
import { availableParallelism } from "node:os";

export interface ServeOptions {
  ledger: string;
  host: string;
  port: number;
  certs: string;
  name: string;
  /** Events that may wait for the writer before new batches get 503 (default 200,000). */
  maxQueued?: number;
  /** Most events one group commit writes (default 100,000). */
  maxGroup?: number;
  /** Largest request body in bytes (default 32 MiB) and most events per request (default 50,000). */
  maxBodyBytes?: number;
  maxBatchEvents?: number;
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const counters = () => ({ batches: 0, rejected: 0, rejectedBatches: 0, busy: 0, rewritten: 0, refusedClients: 0 });

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === "string" ? body : JSON.stringify(body) + "\n";
  res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain; version=0.0.4" : "application/json", ...headers });
  res.end(text);
}

/** The client certificate's CN when it is a valid host name (the chain was already checked by TLS). */
function clientName(req: IncomingMessage): string | null {
  const sock = req.socket as TLSSocket;
  if (!sock.authorized) return null;
  const cn = sock.getPeerCertificate()?.subject?.CN;
  return typeof cn === "string" && CERT_NAME_RE.test(cn) ? cn : null;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        resolve(null);
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const ca = caFiles(o.certs);
  const own = leafFiles(o.certs, o.name);
  const [caPem, cert, key] = await Promise.all([readFile(ca.cert), readFile(own.cert), readFile(own.key)]).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`--certs ${o.certs}: cannot read ca.pem, ${o.name}.pem or ${o.name}-key.pem (${e.code ?? "unreadable"})`);
  });
  const commit = new GroupCommit(o.ledger, { maxQueued: o.maxQueued ?? 200_000, maxGroup: o.maxGroup ?? 100_000 });
  const maxBody = o.maxBodyBytes ?? 32 << 20;
  const maxEvents = o.maxBatchEvents ?? 50_000;
  const n = counters();
  // One core is the main thread's (TLS, HTTP); check threads use the others, at least one, at most four.
  const checks = new ThreadCalls<CheckRequest, CheckedBatch>(import.meta.url, "check-thread", Math.min(4, Math.max(1, availableParallelism() - 1)));

  const metrics = () =>
    [
      ["hwledger_serve_events_accepted_total", "counter", "events written to the ledger", commit.totals.accepted],
      ["hwledger_serve_events_duplicate_total", "counter", "events already in the ledger (resends)", commit.totals.duplicates],
      ["hwledger_serve_events_rejected_total", "counter", "events in refused batches (invalid or conflicting)", n.rejected],
      ["hwledger_serve_events_host_rewritten_total", "counter", "events whose body named another host than the certificate", n.rewritten],
      ["hwledger_serve_batches_total", "counter", "batches acknowledged", n.batches],
      ["hwledger_serve_batches_rejected_total", "counter", "batches refused as invalid (400)", n.rejectedBatches],
      ["hwledger_serve_clients_refused_total", "counter", "TLS handshakes refused (no, expired or foreign certificate) and nameless certificates", n.refusedClients],
      ["hwledger_serve_busy_total", "counter", "requests answered 503 (queue full)", n.busy],
      ["hwledger_serve_commits_total", "counter", "group commits written", commit.totals.commits],
      ["hwledger_serve_commit_failures_total", "counter", "group commits that failed (clients resend)", commit.totals.failures],
      ["hwledger_serve_queue_events", "gauge", "events waiting for or in the writer", commit.depth],
    ]
      .map(([name, type, help, v]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${v}\n`)
      .join("");

  const busy = (res: ServerResponse) => {
    n.busy++;
    send(res, 503, { error: "ledger writer is behind: retry later" }, { "retry-after": String(commit.retryAfterS()) });
  };

  async function ingest(req: IncomingMessage, res: ServerResponse, host: string): Promise<void> {
    if (commit.full()) return busy(res); // before reading the body: memory stays bounded
    const body = await readBody(req, maxBody);
    if (body === null) return send(res, 413, { error: `batch larger than ${maxBody} bytes` }, { connection: "close" });
    // Parsing and validating run on the check threads; the body's bytes move there, uncopied when they have a
    // buffer of their own (a small body sits in Node's shared buffer pool, which must not move: it is copied).
    const bytes = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : new Uint8Array(body);
    const batch = await checks.call({ host, body: bytes, maxEvents }, [bytes.buffer as ArrayBuffer]);
    if (!batch.ok) {
      n.rejectedBatches++;
      n.rejected += batch.lines;
      return send(res, 400, { error: batch.error });
    }
    const done = commit.submit(batch);
    if (!done) return busy(res);
    try {
      await done;
    } catch (e) {
      if (e instanceof LedgerConflict || e instanceof InputError) {
        n.rejected += batch.count;
        return send(res, 409, { error: e.message.split("\n")[0] });
      }
      return send(res, 500, { error: "ledger write failed: resend" }, { "retry-after": "1" });
    }
    n.batches++;
    n.rewritten += batch.rewritten;
    send(res, 200, { acknowledged: batch.count, host });
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const host = clientName(req);
    if (!host) {
      n.refusedClients++;
      return send(res, 403, { error: "client certificate has no valid name" }, { connection: "close" });
    }
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") return send(res, 200, { ok: true, queue: commit.depth });
    if (req.method === "GET" && path === "/metrics") return send(res, 200, metrics());
    if (req.method === "POST" && path === "/v1/events") {
      ingest(req, res, host).catch(() => {
        if (!res.headersSent) send(res, 500, { error: "internal error" });
        else res.destroy();
      });
      return;
    }
    send(res, 404, { error: "not found" });
  };
  const server = createServer({ key, cert, ca: caPem, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.2", keepAliveTimeout: 30_000 }, handle);
  // A client that sent Expect: 100-continue learns that the queue is full before it uploads the batch.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "POST" && clientName(req) && commit.full()) {
      res.shouldKeepAlive = false; // the client will not send the body it announced
      return busy(res);
    }
    res.writeContinue();
    handle(req, res);
  });
  server.on("tlsClientError", () => (n.refusedClients += 1));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  const url = `https://${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}`;
  return {
    url,
    server,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await commit.close();
      await checks.close();
    },
  };
}
