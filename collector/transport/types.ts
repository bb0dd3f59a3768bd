// What every transport (local, SSH) offers: run a command as an argument array, move files.

export interface ExecOptions {
  /** Kill the command and reject after this long (default 60 s). */
  timeoutMs?: number;
  /** Written to the command's stdin, then stdin is closed. */
  input?: string | Buffer;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

/** A long-running command (an engine): stream its output, stop it, wait for it. */
export interface Running {
  /** Resolves when it exits: code (null when killed by a signal) and signal name if any. */
  done: Promise<{ code: number | null; signal: string | null }>;
  kill(signal?: "TERM" | "INT" | "KILL"): void;
}

export interface DirEntry {
  name: string;
  isDir: boolean;
  size: number;
}

export interface Transport {
  /** "local" or ssh://user@host:port */
  readonly target: string;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  spawn(argv: readonly string[], opts?: SpawnOptions): Promise<Running>;
  readFile(path: string): Promise<Buffer>;
  /** Writes atomically: temp name in the same folder, fsync, rename. */
  writeFile(path: string, data: string | Buffer): Promise<void>;
  /** Entries of a folder; null when it does not exist. */
  readdir(path: string): Promise<DirEntry[] | null>;
  mkdirp(path: string): Promise<void>;
  /** Renames; fails if `to` exists where the platform allows refusing. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  close(): Promise<void>;
}

/** POSIX shell quoting of one argument: safe characters as they are, everything else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_\-+=.,/:@%^]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** An argument array as one command line for a remote POSIX shell. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error("empty command");
  return argv.map(shellQuote).join(" ");
}
