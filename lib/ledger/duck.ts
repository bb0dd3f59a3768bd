// In-process DuckDB for ledger work; the ledger itself is the Parquet files on disk. Two kinds of instance:
// the trusted one (writer, compaction, segment checks) and read-only ones for queries, locked down by DuckDB's
// own settings so that no SQL can write, attach, install or load anything, nor read outside allowed folders.
import { DuckDBInstance } from "@duckdb/node-api";
import type { DuckDBConnection } from "@duckdb/node-api";

let trusted: Promise<DuckDBInstance> | undefined;

export async function connect(): Promise<DuckDBConnection> {
  trusted ??= DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false", autoload_known_extensions: "false" });
  return (await trusted).connect();
}

/** Runs fn on a fresh connection and always closes it. */
export async function withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const c = await connect();
  try {
    return await fn(c);
  } finally {
    c.closeSync();
  }
}

/** SQL string literal (file paths, names). */
export function lit(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export interface ReadOnlyScope {
  /** Folders (absolute) whose files queries may read: the ledger, plus any the user allowed. */
  dirs: string[];
  /** Single files (absolute) queries may read. */
  files?: string[];
  /** DuckDB memory limit, e.g. "512MB" (default: DuckDB's, 80% of RAM). */
  memoryLimit?: string;
}

const readOnly = new Map<string, Promise<DuckDBInstance>>();

/**
 * A DuckDB instance on which SQL can only read: external access off except for the allowed folders and files
 * (allowed_directories / allowed_paths), no extension installed or loaded (autoload off, LOAD refused with
 * external access off), no spilling to disk, every setting locked (lock_configuration) so no statement can
 * undo this. Statement types are checked separately (lib/ledger/query.ts): allowed folders are writable too.
 */
export function readOnlyInstance(scope: ReadOnlyScope): Promise<DuckDBInstance> {
  const key = JSON.stringify([scope.dirs, scope.files ?? [], scope.memoryLimit ?? ""]);
  let p = readOnly.get(key);
  if (!p) {
    p = (async () => {
      const db = await DuckDBInstance.create(":memory:", {
        autoinstall_known_extensions: "false",
        autoload_known_extensions: "false",
        temp_directory: "",
        ...(scope.memoryLimit ? { memory_limit: scope.memoryLimit } : {}),
      });
      const c = await db.connect();
      try {
        // List-valued settings cannot go through the config object: set them before locking.
        const dirs = scope.dirs.map((d) => lit(d.endsWith("/") ? d : `${d}/`)).join(", ");
        await c.run(`SET GLOBAL TimeZone = 'UTC'`);
        await c.run(`SET allowed_directories = [${dirs}]`);
        if (scope.files?.length) await c.run(`SET allowed_paths = [${scope.files.map(lit).join(", ")}]`);
        await c.run("SET enable_external_access = false");
        await c.run("SET lock_configuration = true");
      } finally {
        c.closeSync();
      }
      return db;
    })();
    readOnly.set(key, p);
    p.catch(() => readOnly.delete(key));
  }
  return p;
}
