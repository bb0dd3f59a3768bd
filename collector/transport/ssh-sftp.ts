// File operations over SFTP on a pooled SSH connection: read, atomic write, list, mkdir -p, rename, unlink.
import { basename, posix } from "node:path";
import type { SFTPWrapper } from "ssh2";
import { RuntimeFailure } from "../errors.js";
import type { Conn, SshPool } from "./ssh-pool.js";
import type { DirEntry } from "./types.js";

export class SshFiles {
  constructor(private readonly pool: SshPool) {}

  private sftp(c: Conn): Promise<SFTPWrapper> {
    c.sftp ??= new Promise((resolve, reject) =>
      c.client.sftp((err, s) => (err ? reject(new RuntimeFailure(`ssh ${this.pool.where()}: sftp: ${err.message}`)) : resolve(s))),
    );
    return c.sftp;
  }

  private op<T>(fn: (s: SFTPWrapper, done: (err: unknown, v?: T) => void) => void, what: string): Promise<T> {
    return this.pool.withChannel(async (c) => {
      const s = await this.sftp(c);
      return new Promise<T>((resolve, reject) =>
        fn(s, (err, v) => (err ? reject(new RuntimeFailure(`ssh ${this.pool.where()}: ${what}: ${(err as Error).message}`)) : resolve(v as T))),
      );
    });
  }

  readFile(path: string): Promise<Buffer> {
    return this.op<Buffer>((s, done) => s.readFile(path, (e: Error | undefined, b: Buffer) => done(e, b)), `read ${path}`);
  }

  async writeFile(path: string, data: string | Buffer): Promise<void> {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    const tmp = posix.join(posix.dirname(path), `.tmp-${basename(path)}-${process.pid}-${Date.now()}`);
    await this.pool.withChannel(async (c) => {
      const s = await this.sftp(c);
      const p = <T>(f: (cb: (e: Error | null | undefined, v?: T) => void) => void) =>
        new Promise<T>((res, rej) => f((e, v) => (e ? rej(new RuntimeFailure(`ssh ${this.pool.where()}: write ${path}: ${e.message}`)) : res(v as T))));
      const h = await p<Buffer>((cb) => s.open(tmp, "w", cb));
      try {
        for (let off = 0; off < buf.length; ) {
          const n = Math.min(32 * 1024, buf.length - off);
          await p<void>((cb) => s.write(h, buf, off, n, off, (e) => cb(e)));
          off += n;
        }
        await p<void>((cb) => s.ext_openssh_fsync(h, (e) => cb(e)));
      } finally {
        await p<void>((cb) => s.close(h, (e) => cb(e))).catch(() => undefined);
      }
      // posix-rename@openssh.com replaces atomically, as rename(2) does.
      await p<void>((cb) => s.ext_openssh_rename(tmp, path, (e) => cb(e)));
    });
  }

  async readdir(path: string): Promise<DirEntry[] | null> {
    try {
      const list = await this.op<Array<{ filename: string; attrs: { size: number; isDirectory(): boolean } }>>(
        (s, done) => s.readdir(path, (e, l) => done(e, l)),
        `readdir ${path}`,
      );
      return list.map((e) => ({ name: e.filename, isDir: e.attrs.isDirectory(), size: e.attrs.size }));
    } catch (e) {
      if (/No such file/i.test((e as Error).message)) return null;
      throw e;
    }
  }

  async mkdirp(path: string): Promise<void> {
    const parts = path.split("/").filter(Boolean);
    let cur = path.startsWith("/") ? "" : ".";
    for (const part of parts) {
      cur = `${cur}/${part}`;
      const there = await this.op<boolean>((s, done) => s.stat(cur, (e, st) => done(undefined, !e && st.isDirectory())), `stat ${cur}`);
      if (!there) await this.op<void>((s, done) => s.mkdir(cur, (e) => done(e && !/exist|Failure/i.test(e.message) ? e : undefined)), `mkdir ${cur}`);
    }
  }

  /** SFTP v3 rename: OpenSSH refuses when `to` exists (never overwrites). */
  rename(from: string, to: string): Promise<void> {
    return this.op<void>((s, done) => s.rename(from, to, (e) => done(e)), `rename ${from}`);
  }

  unlink(path: string): Promise<void> {
    return this.op<void>((s, done) => s.unlink(path, (e) => done(e)), `unlink ${path}`);
  }
}
