// The local transport: child processes without a shell, files through node:fs.
import { spawn as spawnChild } from "node:child_process";
import { mkdir, open, readFile, readdir, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { RuntimeFailure } from "../errors.js";
import type { DirEntry, ExecOptions, ExecResult, Running, SpawnOptions, Transport } from "./types.js";

export class LocalTransport implements Transport {
  readonly target = "local";

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const child = spawnChild(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.stdin.on("error", () => undefined); // the command may exit without reading its input
      child.on("error", (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new RuntimeFailure(e.code === "ENOENT" ? `command not found: ${argv[0]}` : `${argv[0]}: ${e.message}`));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return reject(new RuntimeFailure(`command timed out after ${timeoutMs / 1000} s: ${argv[0]}`));
        resolve({
          code: code ?? 128 + (signal === "SIGKILL" ? 9 : 15),
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        });
      });
      child.stdin.end(opts.input ?? undefined);
    });
  }

  async spawn(argv: readonly string[], opts: SpawnOptions = {}): Promise<Running> {
    const child = spawnChild(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    if (opts.onStdout) child.stdout.on("data", opts.onStdout);
    else child.stdout.resume();
    if (opts.onStderr) child.stderr.on("data", opts.onStderr);
    else child.stderr.resume();
    const done = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
      child.on("error", (e: NodeJS.ErrnoException) =>
        reject(new RuntimeFailure(e.code === "ENOENT" ? `command not found: ${argv[0]}` : `${argv[0]}: ${e.message}`)),
      );
      child.on("close", (code, signal) => resolve({ code, signal: signal ? signal.replace(/^SIG/, "") : null }));
    });
    return { done, kill: (sig = "TERM") => void child.kill(`SIG${sig}`) };
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(path);
  }

  async writeFile(path: string, data: string | Buffer): Promise<void> {
    const tmp = join(dirname(path), `.tmp-${basename(path)}-${process.pid}-${Date.now()}`);
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  }

  async readdir(path: string): Promise<DirEntry[] | null> {
    try {
      const ents = await readdir(path, { withFileTypes: true });
      return Promise.all(
        ents.map(async (e) => ({
          name: e.name,
          isDir: e.isDirectory(),
          size: e.isFile() ? (await stat(join(path, e.name))).size : 0,
        })),
      );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }

  async mkdirp(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  }

  async rename(from: string, to: string): Promise<void> {
    if (await stat(to).then(() => true, () => false)) throw new RuntimeFailure(`rename: ${to} exists`);
    await rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    await unlink(path);
  }

  async close(): Promise<void> {}
}
