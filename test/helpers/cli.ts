// Runs the real CLI (bin/hwledger.js) as a child process, as a user would.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN_PATH = ROOT + "bin/hwledger.js";
const BIN = BIN_PATH;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, HWLEDGER_OFFLINE: "1", ...opts.env },
    input: opts.input,
    timeout: opts.timeoutMs ?? 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI with --json and parses stdout, failing loudly with stderr when it did not succeed. */
export function runCliJson<T = any>(args: string[], opts: Parameters<typeof runCli>[1] = {}): T {
  const r = runCli([...args, "--json"], opts);
  if (r.code !== 0) throw new Error(`hwledger ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface AsyncCliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  /** The run fails (timedOut, code -1) past this; no timing is asserted beyond it. */
  timeoutMs?: number;
  /** Extra node flags, e.g. --max-old-space-size=1024 so running out of memory is a visible failure. */
  nodeArgs?: string[];
}

/**
 * Runs the CLI without blocking this process (a test that serves HTTP or SSH to the CLI needs its event loop).
 * Environment entries set to undefined are removed.
 */
export function runCliAsync(args: string[], opts: AsyncCliOptions = {}): Promise<CliResult & { timedOut: boolean; signal: string | null }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, HWLEDGER_OFFLINE: "1", ...opts.env })) if (v !== undefined) env[k] = v;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 120_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, timedOut, signal });
    });
  });
}
