// One in-process DuckDB (in memory) for ledger work; the ledger itself is the Parquet files on disk.
import { DuckDBInstance } from "@duckdb/node-api";
import type { DuckDBConnection } from "@duckdb/node-api";

let instance: Promise<DuckDBInstance> | undefined;

export async function connect(): Promise<DuckDBConnection> {
  instance ??= DuckDBInstance.create(":memory:");
  return (await instance).connect();
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
