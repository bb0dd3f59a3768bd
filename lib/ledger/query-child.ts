// The child process of queryLedgerIsolated (isolated.ts): runs one queryLedger and sends back the rows or the
// error. The parent kills it when done, so nothing here waits for DuckDB to wind down.
import { InputError } from "../calc/types.js";
import { queryLedger } from "./query.js";
import type { QueryOptions } from "./query.js";

process.once("message", async (m: { ledgerDir: string; sql: string; opts: QueryOptions }) => {
  try {
    process.send!({ rows: await queryLedger(m.ledgerDir, m.sql, m.opts) });
  } catch (e) {
    process.send!({ error: String((e as Error)?.message ?? e).split("\n")[0], input: e instanceof InputError });
  }
});
process.send!({ ready: true });
