// What the cloud tests share: a hermetic environment (HOME, XDG dirs, ledger, SSH key in temp folders; each
// provider's base URL at its stand-in or at a closed port) and the CLI run as a child process without
// blocking this process's event loop (the stand-ins answer from here).
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runCliAsync as runCliAsyncWith } from "./cli.js";
import { tinyModel, writeGguf } from "./gguf-writer.js";
import type { CliResult } from "./cli.js";
import type { StandIn } from "./standin/core.js";

const URL_ENV: Record<string, string> = { vastai: "HWLEDGER_VASTAI_URL", runpod: "HWLEDGER_RUNPOD_URL", lambda: "HWLEDGER_LAMBDA_URL" };
const KEY_ENV: Record<string, string> = { vastai: "VAST_API_KEY", runpod: "RUNPOD_API_KEY", lambda: "LAMBDA_API_KEY" };

export interface CloudEnv {
  dir: string;
  home: string;
  ledger: string;
  stateDir: string;
  env: Record<string, string>;
}

/** A fresh environment; stand-ins get their URL and (unless keyInEnv is false) their key in the environment. */
export function cloudEnv(o: { sshKeyFile: string; standins?: StandIn[]; keyInEnv?: boolean }): CloudEnv {
  const dir = mkdtempSync(join(tmpdir(), "hwledger-cloud-"));
  const home = join(dir, "home");
  mkdirSync(home, { recursive: true });
  const env: Record<string, string> = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_STATE_HOME: join(dir, "state"),
    XDG_DATA_HOME: join(dir, "data"),
    XDG_CACHE_HOME: join(dir, "cache"),
    HWLEDGER_LEDGER: join(dir, "ledger"),
    HWLEDGER_KNOWN_HOSTS: join(dir, "known_hosts"),
    HWLEDGER_SSH_KEY: o.sshKeyFile,
    HWLEDGER_OFFLINE: "",
  };
  // Every provider not under test points at a closed port with no key: nothing can reach a real cloud.
  for (const p of Object.keys(URL_ENV)) {
    env[URL_ENV[p]] = "http://127.0.0.1:9";
    env[KEY_ENV[p]] = "";
  }
  for (const s of o.standins ?? []) {
    env[URL_ENV[s.provider]] = s.url;
    if (o.keyInEnv !== false) env[KEY_ENV[s.provider]] = s.key;
  }
  return { dir, home, ledger: env.HWLEDGER_LEDGER, stateDir: env.XDG_STATE_HOME, env };
}

export interface Spawned {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}

export function spawnCli(args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [join(ROOT, "bin/hwledger.js"), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b));
  child.stderr!.on("data", (b: Buffer) => (err += b));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

/** The CLI in this environment, without blocking this process (the stand-ins answer from here). */
export function runCliAsync(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<CliResult> {
  return runCliAsyncWith(args, { env, timeoutMs });
}

/** Polls until `ok()` holds (or throws after `ms`). */
export async function until(ok: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every file under dir, recursively (for the planted-key grep). */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Kills this test's leftover processes (an engine orphaned by a kill -9), found by a path only they carry. */
export function killProcessesMentioning(marker: string): number {
  let n = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (Number(pid) !== process.pid && cmd.includes(marker)) {
      try {
        process.kill(Number(pid), "SIGKILL");
        n++;
      } catch {
        // already gone
      }
    }
  }
  return n;
}

/** A tiny llama GGUF the embedded llama.cpp loads in a moment (2 layers, n_embd 128), in its own temp folder. */
export function tinyGguf(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "hwledger-cloud-gguf-"));
  const path = join(dir, "tiny.gguf");
  const m = tinyModel({ arch: "llama", nLayer: 2, nEmbd: 128, nHead: 4, nHeadKv: 2 });
  writeGguf(path, m.metadata, m.tensors);
  return { dir, path };
}
