// No secret in any output (issue #12 finding 5): API keys planted in the environment, price plugins pointed at a real
// HTTP server on 127.0.0.1 (HWLEDGER_PRICE_API_BASE) that answers 401, 500, a GraphQL error or 200 — each echoing the
// key back in its body, as a hostile or careless server might — and every output searched for the key: stdout,
// stderr, --json documents, every file of the ledger. The server also checks how the key travels: in the
// Authorization header, never in the URL.
import { createServer } from "node:http";
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliAsync } from "./helpers/cli.js";
import { redact, secretValues } from "../lib/fleet/redact.js";

const RUNPOD_KEY = `rpa_PLANTED${Math.random().toString(36).slice(2)}SECRET`;
const LAMBDA_KEY = `secret_PLANTED_lambda_${Math.random().toString(36).slice(2)}`;
const RUNPOD_SNAPSHOT = JSON.parse(readFileSync(new URL("../plugins/price-runpod/snapshot.json", import.meta.url), "utf8"));

type Mode = "401" | "500" | "graphql-error" | "200";
let mode: Mode = "401";
const seen: Array<{ url: string; authorization?: string }> = [];
let server: Server;
let base: string;

function answer(req: IncomingMessage, body: string): { status: number; body: string } {
  const echo = `${req.headers.authorization ?? ""} ${req.url} ${body}`;
  if (!req.url?.startsWith("/graphql")) return { status: 404, body: `no such path; you sent ${echo}` };
  if (mode === "401") return { status: 401, body: JSON.stringify({ error: `Unauthorized: ${echo}` }) };
  if (mode === "500") return { status: 500, body: `internal error while handling ${echo}` };
  if (mode === "graphql-error") return { status: 200, body: JSON.stringify({ errors: [{ message: `api key ${RUNPOD_KEY} is not allowed to query gpuTypes` }] }) };
  return { status: 200, body: JSON.stringify({ data: { gpuTypes: RUNPOD_SNAPSHOT } }) };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      seen.push({ url: req.url ?? "", authorization: req.headers.authorization });
      const a = answer(req, body);
      res.writeHead(a.status, { "content-type": "application/json" }).end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function home(): Record<string, string> {
  const h = mkdtempSync(join(tmpdir(), "hwl-secrets-"));
  return { HOME: h, XDG_DATA_HOME: join(h, "data"), XDG_CONFIG_HOME: join(h, "config"), XDG_CACHE_HOME: join(h, "cache"), HWLEDGER_LEDGER: join(h, "ledger"), HWLEDGER_CACHE: join(h, "hwl-cache") };
}

/** Every byte of every file under dir, as latin1 (a key is ASCII: found in Parquet pages too, unless compressed away — see below). */
function filesUnder(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ file: p, text: readFileSync(p).toString("latin1") });
    }
  };
  try {
    walk(dir);
  } catch {
    // no ledger written
  }
  return out;
}

function expectNoKey(where: string, text: string): void {
  for (const key of [RUNPOD_KEY, LAMBDA_KEY, encodeURIComponent(RUNPOD_KEY)]) {
    if (text.includes(key)) throw new Error(`${where} contains a planted API key: …${text.slice(Math.max(0, text.indexOf(key) - 80), text.indexOf(key) + key.length + 20)}…`);
  }
}

describe("a planted RunPod/Lambda API key never leaves the process", () => {
  for (const m of ["401", "500", "graphql-error", "200"] as Mode[]) {
    it(`server answers ${m}: prices, dispatch and the ledger carry no key; the key went in the Authorization header`, async () => {
      mode = m;
      seen.length = 0;
      const h = home();
      const env = { ...h, HWLEDGER_OFFLINE: undefined, HWLEDGER_PRICE_API_BASE: base, RUNPOD_API_KEY: RUNPOD_KEY, LAMBDA_API_KEY: LAMBDA_KEY };
      const ledger = h.HWLEDGER_LEDGER;
      const runs = [
        await runCliAsync(["prices", "--online", "--json"], { env, timeoutMs: 60_000 }),
        await runCliAsync(["prices", "--online", "--record", "--ledger", ledger], { env, timeoutMs: 60_000 }),
        await runCliAsync(["dispatch", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--context", "4096", "--tokens", "100000", "--online", "--ledger", ledger, "--json"], { env, timeoutMs: 60_000 }),
      ];
      for (const [i, r] of runs.entries()) {
        expect(r.timedOut).toBe(false);
        expect(r.code, r.stderr).toBe(0);
        expectNoKey(`run ${i} stdout`, r.stdout);
        expectNoKey(`run ${i} stderr`, r.stderr);
      }
      for (const f of filesUnder(ledger)) expectNoKey(f.file, f.text);
      // Parquet pages may be compressed: read the rows back too, and check the recording searched something.
      const rows = await runCliAsync(["ledger", "query", "SELECT * FROM events", "--ledger", ledger, "--json"], { env, timeoutMs: 60_000 });
      expect(rows.code, rows.stderr).toBe(0);
      expectNoKey("ledger rows", rows.stdout);
      expect((JSON.parse(rows.stdout) as Array<{ type: string }>).map((r) => r.type)).toEqual(expect.arrayContaining(["price_quoted", "dispatch_decided"]));

      const sources = JSON.parse(runs[0].stdout).sources as Array<{ plugin: string; mode: string; reason?: string }>;
      const runpod = sources.find((s) => s.plugin === "price-runpod")!;
      const lambda = sources.find((s) => s.plugin === "price-lambda")!;
      if (m === "200") expect(runpod).toMatchObject({ mode: "online" });
      else {
        expect(runpod.mode).toBe("snapshot");
        expect(runpod.reason).toMatch(m === "graphql-error" ? /^RunPod GraphQL: api key \[redacted\] is not allowed/ : new RegExp(`^http://127\\.0\\.0\\.1:\\d+/graphql: HTTP ${m}`));
      }
      expect(lambda.reason).toMatch(/\/api\/v1\/instance-types: HTTP 404$/);
      const dispatchSources = JSON.parse(runs[2].stdout).prices as typeof sources;
      expect(dispatchSources.find((s) => s.plugin === "price-runpod")!.mode).toBe(runpod.mode);

      const runpodRequests = seen.filter((s) => s.url.startsWith("/graphql"));
      expect(runpodRequests.length).toBeGreaterThanOrEqual(3);
      for (const s of runpodRequests) {
        expect(s.authorization).toBe(`Bearer ${RUNPOD_KEY}`);
        expectNoKey(`request URL ${s.url}`, s.url);
      }
    });
  }
});

describe("redact", () => {
  it("replaces credential variables' values and credential parts of URLs, nothing else", () => {
    const secrets = secretValues({ RUNPOD_API_KEY: "abc123secret", HF_TOKEN: "hf_xyz987654", HWLEDGER_SSH_KEY: "/home/u/.ssh/id", USER: "alice", SHORT_KEY: "1" });
    expect(redact("key abc123secret, token hf_xyz987654, user alice, key file /home/u/.ssh/id, 1 thing", secrets)).toBe(
      "key [redacted], token [redacted], user alice, key file /home/u/.ssh/id, 1 thing",
    );
    expect(redact("GET https://api.runpod.io/graphql?api_key=zzz&x=1 and https://bob:hunter2@host/p?token=t#f", [])).toBe(
      "GET https://api.runpod.io/graphql?api_key=[redacted]&x=1 and https://bob:[redacted]@host/p?token=[redacted]#f",
    );
  });
});
