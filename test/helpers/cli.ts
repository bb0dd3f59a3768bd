// Runs the real CLI (bin/hwledger.js) as a child process, as a user would.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = ROOT + "bin/hwledger.js";

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
