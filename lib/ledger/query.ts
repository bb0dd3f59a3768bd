// `ledger query`: SQL over the view `events`, read-only by construction. The connection is a locked-down DuckDB
// (duck.ts: no file access outside the ledger and the folders the user allowed, no extensions, settings locked),
// and only a single SELECT (or EXPLAIN of one) is run: DuckDB's own parser says what each statement is before
// anything executes. A time limit interrupts the query, a memory limit bounds DuckDB and a row limit bounds what
// comes back; each refusal is an InputError (one line, exit 2).
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { StatementType } from "@duckdb/node-api";
import type { DuckDBConnection, DuckDBPreparedStatement, DuckDBResultReader } from "@duckdb/node-api";
import { InputError } from "../calc/types.js";
import { DUCK_ERROR, QueryTimeLimit, withLedger } from "./reader.js";

export interface QueryOptions {
  /** Interrupt the query after this long (default: no limit). */
  timeoutMs?: number;
  /** DuckDB memory limit, e.g. "512MB" (default: DuckDB's). */
  memoryLimit?: string;
  /** Refuse results with more rows than this (default: no limit). */
  maxRows?: number;
  /** Files or folders outside the ledger the SQL may read (the user asked for them). */
  allowRead?: string[];
}

/** EXPLAIN [ANALYZE] / EXPLAIN (options) before the statement it explains. */
const EXPLAIN_PREFIX = /^\s*EXPLAIN\s+(?:\([^)]*\)\s*)?(?:ANALY[SZ]E\s+)?/i;
export const MEMORY_LIMIT_RE = /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

/** Whether `sql` is exactly one SELECT, by DuckDB's parser alone (json_serialize_sql serializes only SELECTs). */
async function isOneSelect(c: DuckDBConnection, sql: string): Promise<boolean> {
  const p = await c.prepare("SELECT json_serialize_sql($1::VARCHAR) AS j");
  p.bindVarchar(1, sql);
  const j = JSON.parse(String((await p.runAndReadAll()).getRowObjectsJS()[0].j)) as { error: boolean; statements?: unknown[] };
  return !j.error && j.statements?.length === 1;
}

/** The statement's first keyword, for the refusal message. */
function keyword(sql: string): string {
  const m = /^[A-Za-z]+/.exec(sql.replace(/^(\s|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/|\()*/, ""));
  return m ? m[0].toUpperCase() : "this";
}

/**
 * Prepares the only statement of `sql`, refusing anything but a SELECT (or EXPLAIN of one). The kind is decided
 * by parsing alone: binding a statement can already act (EXPORT DATABASE creates its folder when prepared).
 */
async function readOnlyStatement(c: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  const all = await c.extractStatements(sql).catch((e: Error) => {
    throw new InputError(duckReason(e).replace(/^Failed to extract statements: /, ""));
  });
  if (all.count === 0) throw new InputError("empty SQL");
  if (all.count > 1) throw new InputError(`ledger query runs one statement at a time, got ${all.count}`);
  const explained = EXPLAIN_PREFIX.test(sql) ? sql.replace(EXPLAIN_PREFIX, "") : null;
  if (!(await isOneSelect(c, sql)) && !(explained !== null && (await isOneSelect(c, explained))))
    throw new InputError(`ledger query is read-only: ${keyword(sql)} statements are refused (only SELECT)`);
  const p = await all.prepare(0);
  if (p.statementType !== StatementType.SELECT && p.statementType !== StatementType.EXPLAIN)
    throw new InputError(`ledger query is read-only: ${StatementType[p.statementType]} statements are refused (only SELECT)`);
  return p;
}

/** JSON-safe values: BigInt -> number when exact, else string; dates -> ISO strings; JSON columns parsed. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

function rowsOf(r: DuckDBResultReader): Record<string, unknown>[] {
  const names = r.columnNames();
  const types = r.columnTypes();
  const isJson = names.map((_, i) => types[i].alias === "JSON");
  return r.getRowObjectsJS().map((row) => {
    const out: Record<string, unknown> = {};
    names.forEach((n, i) => {
      const v = row[n];
      out[n] = isJson[i] && typeof v === "string" ? JSON.parse(v) : jsonSafe(v);
    });
    return out;
  });
}

/** First line of a DuckDB error: what the CLI prints. */
export function duckReason(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0];
}

async function runLimited(c: DuckDBConnection, p: DuckDBPreparedStatement, opts: QueryOptions): Promise<Record<string, unknown>[]> {
  const max = opts.maxRows ?? Infinity;
  const work = (async () => {
    const r = Number.isFinite(max) ? await p.streamAndReadUntil(max + 1) : await p.runAndReadAll();
    if (r.currentRowCount > max) throw new InputError(`the result has more than ${max} rows (the row limit): aggregate, add LIMIT or raise --max-rows`);
    return rowsOf(r);
  })();
  if (opts.timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      c.interrupt();
      reject(new QueryTimeLimit(`query stopped after ${opts.timeoutMs! / 1000} s (the time limit; --timeout raises it)`));
    }, opts.timeoutMs);
  });
  work.catch(() => undefined); // an abandoned query's own failure (Interrupted!) is not news
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Splits the user's --allow-read paths into folders and files; a path that does not exist is bad input. */
async function allowed(paths: readonly string[]): Promise<{ allowDirs: string[]; allowFiles: string[] }> {
  const allowDirs: string[] = [];
  const allowFiles: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    const st = await stat(abs).catch(() => null);
    if (!st) throw new InputError(`--allow-read: no such file or folder: ${p}`);
    (st.isDirectory() ? allowDirs : allowFiles).push(abs);
  }
  return { allowDirs, allowFiles };
}

/**
 * Runs one read-only SQL statement over the view `events`; returns JSON-safe row objects. Bad or refused SQL, and
 * a query over its limits, throw InputError with one line.
 */
export async function queryLedger(ledgerDir: string, sql: string, opts: QueryOptions = {}): Promise<Record<string, unknown>[]> {
  if (!sql.trim()) throw new InputError("empty SQL");
  if (opts.memoryLimit !== undefined && !MEMORY_LIMIT_RE.test(opts.memoryLimit)) throw new InputError(`invalid memory limit: ${opts.memoryLimit} (e.g. 512MB, 2GB)`);
  const scope = { ...(await allowed(opts.allowRead ?? [])), memoryLimit: opts.memoryLimit };
  try {
    return await withLedger(ledgerDir, async (c) => runLimited(c, await readOnlyStatement(c, sql), opts), scope);
  } catch (e) {
    if (!(e instanceof InputError) && DUCK_ERROR.test(String((e as Error)?.message))) throw new InputError(duckReason(e));
    throw e;
  }
}
