// A fleet on this machine for tests and the bench: a CA with many agent certificates (the real `certs` code, i.e.
// the system openssl), `hwledger serve` as a child process (so it can be killed with -9), and agents that push
// through the real spool and mTLS client (collector/agent), many of them in one process.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { drain, pushTarget } from "../../collector/agent/push.js";
import type { DrainResult } from "../../collector/agent/push.js";
import { Spool } from "../../collector/agent/spool.js";
import { initCa, issueCert } from "../../collector/serve/certs.js";
import { ulid } from "../../lib/fleet/ulid.js";
import { mapLimit } from "../../lib/pool.js";
import { BIN_PATH, ROOT } from "./cli.js";

export const agentName = (i: number) => `agent-${String(i).padStart(3, "0")}`;

/** A CA in dir with a server certificate `central` and `agents` client certificates, issued in parallel. */
export async function fleetCa(dir: string, agents: number): Promise<string[]> {
  await initCa(dir);
  await issueCert(dir, "central", { server: true });
  const names = Array.from({ length: agents }, (_, i) => agentName(i));
  await mapLimit(names, 8, (n) => issueCert(dir, n));
  return names;
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `hwledger serve` and resolves with its URL once it printed it. */
export function startServe(ledger: string, certs: string, opts: { port?: number; extra?: string[]; nodeArgs?: string[] } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN_PATH, "serve", "--ledger", ledger, "--listen", `127.0.0.1:${opts.port ?? 0}`, "--certs", certs, "--name", "central", ...(opts.extra ?? [])], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  let out = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve({ url: line, child, stderr: () => err, exited });
    });
    exited.then((code) => reject(new Error(`serve exited ${code} before printing its URL: ${err}`)));
  });
}

/** n telemetry events of one host, as NDJSON lines (fresh ULIDs: stable once spooled). */
export function eventLines(host: string, n: number, offset = 0): string[] {
  const ts = new Date().toISOString();
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: ulid(), ts, host, device_id: `${host}/gpu0`, type: "telemetry_sample", payload: { utilizationPct: (offset + i) % 100, memoryUsedBytes: 1024 * (offset + i) } }),
  );
}

export interface InProcessAgent {
  name: string;
  spool: Spool;
}

/** Spools `perAgent` events for each agent (each its own spool folder under dir). Returns the agents and all ids. */
export async function spoolAgents(dir: string, names: readonly string[], perAgent: number): Promise<{ agents: InProcessAgent[]; ids: number }> {
  const agents = await mapLimit(names, 8, async (name) => {
    const spool = await new Spool(join(dir, `spool-${name}`)).open();
    await spool.add(eventLines(name, perAgent));
    return { name, spool };
  });
  return { agents, ids: names.length * perAgent };
}

/** Every agent drains its spool to url over mTLS, concurrently, retrying until done or the deadline. */
export async function pushAll(url: string, certs: string, agents: readonly InProcessAgent[], deadline: number): Promise<DrainResult[]> {
  return Promise.all(
    agents.map(async (a) => {
      const t = await pushTarget(url, certs, a.name);
      try {
        return await drain(a.spool, t, { deadline });
      } finally {
        t.agent.destroy();
      }
    }),
  );
}
