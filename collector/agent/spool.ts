// The agent's on-disk spool: events are written here (fsynced) before anything is sent, and leave only after the
// server acknowledged them. Layout of the spool folder:
//   <ULID>.ndjson        one file per spooled chunk (at most CHUNK events), written to a temp name, fsynced, renamed
//   <ULID>.ndjson.ack    how many leading lines of that file the server acknowledged (temp + fsync + rename)
//   rejected/            batches the server refused as invalid (400/409): kept for a person, never resent
//   known.json           devices this agent already registered (so a sample does not register them again)
// A kill -9 at any point leaves whole files: what was acknowledged is skipped by the .ack count or, if the kill came
// between the server's answer and the .ack write, resent; the server skips event ids it holds, so resending adds
// nothing. ULID names sort by creation, so events leave in the order they came.
import { mkdir, open, readFile, readdir, rename, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ulid } from "../../lib/fleet/ulid.js";

/** Most events in one spool file (and one request). */
export const SPOOL_CHUNK = 2000;
const DATA_RE = /^[0-9A-HJKMNP-TV-Z]{26}\.ndjson$/;

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes text to path atomically and durably: temp file, fsync, rename, fsync of the folder. */
async function writeDurable(dir: string, name: string, text: string | Buffer): Promise<void> {
  const tmp = join(dir, `.tmp-${name}-${process.pid}`);
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  await fsyncDir(dir);
}

/** Whether a process of this id runs (a staging folder of a killed `agent push` may be removed). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface Taken {
  /** The events taken, as NDJSON bytes (each line ends with a newline): what a push sends. */
  body: Buffer;
  /** How many events body holds. */
  count: number;
  /** Per file: its name, lines acknowledged before, lines taken now, and whether that reaches its end. */
  files: { name: string; from: number; to: number; whole: boolean }[];
}

const NEWLINE = 0x0a;

/** Lines in a spool file (the last one may lack its newline). */
function countLines(bytes: Buffer): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE); i !== -1; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return bytes.length === 0 || bytes[bytes.length - 1] === NEWLINE ? n : n + 1;
}

/** Where line k (0-based) starts; the length past the last line. */
function lineOffset(bytes: Buffer, k: number): number {
  let at = 0;
  for (let i = 0; i < k; i++) {
    const nl = bytes.indexOf(NEWLINE, at);
    if (nl === -1) return bytes.length;
    at = nl + 1;
  }
  return at;
}

export class Spool {
  constructor(readonly dir: string) {}

  async open(): Promise<this> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Left-overs of a kill: temp files, and .ack files whose data file was already removed.
    const names = await readdir(this.dir);
    const data = new Set(names.filter((n) => DATA_RE.test(n)));
    for (const n of names) {
      if (n.startsWith(".tmp-") || (n.endsWith(".ack") && !data.has(n.slice(0, -4)))) await unlink(join(this.dir, n)).catch(() => undefined);
      const stage = /^\.stage-(\d+)$/.exec(n);
      if (stage && !alive(Number(stage[1]))) await rm(join(this.dir, n), { recursive: true, force: true });
    }
    return this;
  }

  /** Spools lines (each one JSON event) durably, in files of at most SPOOL_CHUNK lines. */
  async add(lines: readonly string[]): Promise<void> {
    for (let i = 0; i < lines.length; i += SPOOL_CHUNK) {
      await writeDurable(this.dir, `${ulid()}.ndjson`, lines.slice(i, i + SPOOL_CHUNK).join("\n") + "\n");
    }
  }

  private async files(): Promise<string[]> {
    return (await readdir(this.dir)).filter((n) => DATA_RE.test(n)).sort();
  }

  private async acked(name: string): Promise<number> {
    const t = await readFile(join(this.dir, `${name}.ack`), "utf8").catch(() => "0");
    const n = Number(t.trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }

  /**
   * The oldest unacknowledged events, at most max of them, across files in order. The file's bytes go out as they are
   * (never decoded to a string: an agent's memory stays flat however large its backlog).
   */
  async take(max: number): Promise<Taken> {
    const parts: Buffer[] = [];
    const out: Taken = { body: Buffer.alloc(0), count: 0, files: [] };
    for (const name of await this.files()) {
      if (out.count >= max) break;
      const bytes = await readFile(join(this.dir, name)).catch(() => null);
      if (bytes === null) continue;
      const all = countLines(bytes);
      const from = await this.acked(name);
      const to = Math.min(all, from + (max - out.count));
      if (to > from) {
        const piece = from === 0 && to === all ? bytes : bytes.subarray(lineOffset(bytes, from), lineOffset(bytes, to));
        parts.push(piece);
        if (piece[piece.length - 1] !== NEWLINE) parts.push(Buffer.from("\n"));
        out.count += to - from;
      }
      out.files.push({ name, from, to, whole: to >= all });
    }
    out.body = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    return out;
  }

  /** Records that the server acknowledged what take() returned: whole files go, a partial one keeps a count. */
  async ack(t: Taken): Promise<void> {
    for (const f of t.files) {
      if (f.whole) {
        await unlink(join(this.dir, f.name)).catch(() => undefined);
        await unlink(join(this.dir, `${f.name}.ack`)).catch(() => undefined);
      } else await writeDurable(this.dir, `${f.name}.ack`, `${f.to}\n`);
    }
    await fsyncDir(this.dir);
  }

  /** Moves what take() returned to rejected/ (the server refused it as invalid), then acknowledges it here. */
  async reject(t: Taken, reason: string): Promise<string> {
    const dir = join(this.dir, "rejected");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const name = `${ulid()}.ndjson`;
    await writeDurable(dir, name, t.body);
    await writeFile(join(dir, `${name}.reason`), reason + "\n", { mode: 0o600 });
    await this.ack(t);
    return join("rejected", name);
  }

  /** Moves this (staging) spool's files into another spool on the same filesystem, in order. */
  async moveInto(other: Spool): Promise<void> {
    for (const name of await this.files()) await rename(join(this.dir, name), join(other.dir, name));
    await fsyncDir(other.dir);
  }

  /** Events spooled and not yet acknowledged. */
  async pending(): Promise<number> {
    let n = 0;
    for (const name of await this.files()) {
      const bytes = await readFile(join(this.dir, name)).catch(() => Buffer.alloc(0));
      n += Math.max(0, countLines(bytes) - (await this.acked(name)));
    }
    return n;
  }
}
