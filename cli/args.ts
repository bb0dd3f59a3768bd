// Every numeric CLI flag is read here: the text is parsed strictly ("12abc" and "" are errors, not 12 and 0), then
// checked by the zod schema of its kind, whose bounds come from lib/calc/limits.ts. Every command uses these, so a
// flag means the same everywhere and any bad value is exit 2 with one line naming the flag. Kept free of the planner
// (collect must start small): limits.ts imports only zod.
import { statSync } from "node:fs";
import type { z } from "zod";
import { InputError } from "../lib/calc/types.js";
import { boundedInt, boundedNumber } from "../lib/calc/limits.js";

/** Parses a CLI number strictly: "12abc", "", "0x10" and "Infinity" are errors, not 12, 0, 16 and Infinity. */
export function strictNumber(v: number | string, flag: string): number {
  if (typeof v === "number") return v;
  if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v.trim())) throw new InputError(`${flag} must be a number, got "${v}"`);
  return Number(v);
}

/** The kinds of numeric flag; each maps to one schema. */
export const FLAG_KINDS = {
  /** Tokens per sequence (--context, --prompt, --gen, --max-num-batched-tokens). */
  tokens: (f: string) => boundedInt(f, 1, "context"),
  /** Token counts that may be zero (--prompt 0 = decode only, --gen 0 = prefill only). */
  tokensOrZero: (f: string) => boundedInt(f, 0, "context"),
  /** Total tokens of a job (dispatch --tokens). */
  jobTokens: (f: string) => boundedInt(f, 1, "tokens"),
  /** Parallel sequences (--seqs, --max-num-seqs). */
  seqs: (f: string) => boundedInt(f, 1, "seqs"),
  tp: (f: string) => boundedInt(f, 1, "tp"),
  pp: (f: string) => boundedInt(f, 1, "pp"),
  /** Memory of one device in GiB (--gpu-memory-gib, --kv-budget-gib). */
  gib: (f: string) => boundedNumber(f, { positive: true, limit: "deviceGib" }),
  /** A fraction in (0, 1] (--gpu-memory-utilization, --utilization). */
  fraction: (f: string) => boundedNumber(f, { positive: true, limit: "fraction" }),
  /** US dollars, zero allowed (--budget). */
  usd: (f: string) => boundedNumber(f, { positive: false, limit: "usd" }),
  /** Electricity price, zero allowed (free power). */
  usdPerKwh: (f: string) => boundedNumber(f, { positive: false, limit: "usdPerKwh" }),
  /** Depreciation period (--lifespan-years). */
  years: (f: string) => boundedNumber(f, { positive: true, limit: "years" }),
  /** A duration bound in seconds (--max-latency). */
  seconds: (f: string) => boundedNumber(f, { positive: true, limit: "seconds" }),
  /** SSH hosts probed at once (collect --concurrency). */
  parallelHosts: (f: string) => boundedInt(f, 1, "parallelHosts"),
  /** A time limit in seconds (--host-timeout): at most a day, where Node timers are still exact. */
  timeout: (f: string) => boundedNumber(f, { positive: true, limit: "seconds" }).refine((n) => n <= 86_400, { message: `${f} must be at most 86400 s (a day)` }),
  /**
   * A sampling period in seconds (--interval, --sample-interval): at most a day, because Node timers overflow past
   * 2^31 ms (24.8 days) and fire at once; longer periods belong in cron.
   */
  period: (f: string) => boundedNumber(f, { positive: true, limit: "seconds" }).refine((n) => n <= 86_400, { message: `${f} must be at most 86400 s (a day; use cron for longer periods)` }),
} satisfies Record<string, (flag: string) => z.ZodType<number>>;

export type FlagKind = keyof typeof FLAG_KINDS;

/** Reads one numeric flag of the given kind; throws an InputError naming the flag. */
export function flagValue(kind: FlagKind, value: string | number, flag: string): number {
  const r = FLAG_KINDS[kind](flag).safeParse(strictNumber(value, flag));
  if (!r.success) throw new InputError(`${r.error.issues[0].message}, got ${JSON.stringify(String(value))}`);
  return r.data;
}

/** An optional flag: undefined stays undefined. */
export function optFlag(kind: FlagKind, value: string | undefined, flag: string): number | undefined {
  return value === undefined ? undefined : flagValue(kind, value, flag);
}

/**
 * The ledger folder: --ledger, else $HWLEDGER_LEDGER or the default. Something that exists there but is not a folder
 * (a file, a FIFO, a device) is bad input, refused before anything reads or writes it.
 */
export async function ledgerDirFlag(flag: string | undefined): Promise<string> {
  const dir = flag ?? (await import("../lib/ledger/index.js")).defaultLedgerDir();
  let isDir = true;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // absent: created on first write, or read as empty
  }
  if (!isDir) throw new InputError(`${dir}: the ledger must be a folder`);
  return dir;
}
