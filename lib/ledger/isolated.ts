// Untrusted SQL in a child process the caller can stop. DuckDB notices an interrupt only between vectors, and one
// huge value (repeat('x', 2e9)) is allocated outside its memory limit; neither can be stopped from inside the
// process, and a process whose DuckDB still computes does not even exit. So `ledger query` runs queryLedger in a
// child (query-child.ts), and the parent kills it (SIGKILL) at the time limit or when its resident memory goes
// past the memory limit plus the runtime's own share: one line, exit 2, within the limits.
import { fork } from "node:child_process";
import { readFile } from "node:fs/promises";
import { InputError } from "../calc/types.js";
import type { QueryOptions } from "./query.js";
import { MEMORY_LIMIT_RE } from "./query.js";

/** Memory of the child beyond DuckDB's limit: Node, V8 and the rows on their way out. */
const RUNTIME_BYTES = 256 * 1024 ** 2;
const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

export function memoryBytes(limit: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(limit.trim());
  if (!m || !MEMORY_LIMIT_RE.test(limit.trim())) throw new InputError(`invalid memory limit: ${limit} (e.g. 512MB, 2GB)`);
  return Number(m[1]) * UNITS[m[2].toLowerCase()];
}

/** Resident memory of a process in bytes (Linux /proc); null where that is not available. */
async function rssBytes(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => null);
  const kb = status && /^VmRSS:\s+(\d+) kB/m.exec(status);
  return kb ? Number(kb[1]) * 1024 : null;
}

export interface IsolatedOptions extends QueryOptions {
  /** Time limit (required here: it is what the child is killed by). */
  timeoutMs: number;
  memoryLimit: string;
}

type ChildAnswer = { ready: true } | { rows: Record<string, unknown>[] } | { error: string; input: boolean };

/** How long the child may take to load Node and DuckDB before the query's own time limit starts (a busy machine). */
const START_LIMIT_MS = 120_000;

/** queryLedger in a child process, stopped at the time limit or past the memory limit. */
export async function queryLedgerIsolated(ledgerDir: string, sql: string, opts: IsolatedOptions): Promise<Record<string, unknown>[]> {
  const maxRss = memoryBytes(opts.memoryLimit) + RUNTIME_BYTES;
  const ts = import.meta.url.endsWith(".ts");
  const child = fork(new URL(`./query-child.${ts ? "ts" : "js"}`, import.meta.url), [], {
    execArgv: ts ? ["--import", import.meta.resolve("tsx")] : [],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    serialization: "advanced",
  });
  let watch: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Record<string, unknown>[]>((resolve, reject) => {
      const stop = (why: string) => {
        child.kill("SIGKILL");
        reject(new InputError(why));
      };
      child.on("message", (m: ChildAnswer) => {
        if ("ready" in m) {
          // The time limit is the query's: it starts once the child has loaded, when the query is sent.
          clearTimeout(timer);
          timer = setTimeout(() => stop(`query stopped after ${opts.timeoutMs / 1000} s (the time limit; --timeout raises it)`), opts.timeoutMs);
          child.send({ ledgerDir, sql, opts: { ...opts, timeoutMs: undefined } });
        } else if ("rows" in m) resolve(m.rows);
        else reject(m.input ? new InputError(m.error) : new Error(m.error));
      });
      child.on("exit", (code, signal) => reject(new Error(`ledger query process ended (${signal ?? `exit ${code}`}) without an answer`)));
      child.on("error", reject);
      timer = setTimeout(() => stop(`ledger query process did not start within ${START_LIMIT_MS / 1000} s`), START_LIMIT_MS);
      watch = setInterval(async () => {
        const rss = await rssBytes(child.pid!);
        if (rss !== null && rss > maxRss)
          stop(`query stopped: it needed more than ${Math.round(maxRss / 1024 ** 2)} MiB of memory (the memory limit; --memory-limit raises it)`);
      }, 50);
    });
  } finally {
    clearTimeout(timer);
    clearInterval(watch);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
