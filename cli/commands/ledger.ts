// hwledger ledger query|compact|ship|append: the append-only Parquet ledger from the command line.
import type { Command } from "commander";
import { InputError } from "../../lib/calc/types.js";
import { flagValue, ledgerDirFlag, strictNumber } from "../args.js";
import { printJson, progress } from "../output.js";
import { DEFAULT_CONNECT_TIMEOUT_S } from "../../collector/transport/ssh-target.js";

interface LedgerFlags {
  ledger?: string;
  json?: boolean;
}

const ledgerDir = (flags: LedgerFlags) => ledgerDirFlag(flags.ledger);

/** A whole number of at least 1 (row counts, byte sizes, batch sizes). */
function positiveInt(v: string, flag: string): number {
  const n = strictNumber(v, flag);
  if (!Number.isSafeInteger(n) || n < 1) throw new InputError(`${flag} must be a positive integer, got "${v}"`);
  return n;
}

function addLedgerOption(cmd: Command): Command {
  return cmd.option("--ledger <dir>", "ledger folder (default $HWLEDGER_LEDGER or ~/.local/share/hwledger/ledger)");
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** Rows as an aligned text table for humans. */
function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return "(0 rows)";
  const cols = Object.keys(rows[0]);
  const cells = rows.map((r) => cols.map((c) => cell(r[c]).slice(0, 120)));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (xs: string[]) => xs.map((x, i) => x.padEnd(width[i])).join("  ").trimEnd();
  return [line(cols), line(width.map((w) => "-".repeat(w))), ...cells.map(line), `(${rows.length} rows)`].join("\n");
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function registerLedger(program: Command): void {
  const ledger = program.command("ledger").description("query, compact, ship and append to the Parquet ledger");

  addLedgerOption(ledger.command("query").description("run one read-only SELECT over the view `events` (id, ts, host, device_id, type, payload JSON)"))
    .argument("<sql>", "SQL, e.g. \"SELECT type, count(*) FROM events GROUP BY type\"")
    .option("--json", "print an array of row objects")
    .option("--timeout <s>", "stop the query after this many seconds", "5")
    .option("--memory-limit <size>", "DuckDB memory limit, e.g. 512MB or 4GB", "512MB")
    .option("--max-rows <n>", "refuse results with more rows than this", "100000")
    .option("--allow-read <path>", "also let the SQL read this file or folder outside the ledger (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (sql: string, flags: LedgerFlags & { timeout: string; memoryLimit: string; maxRows: string; allowRead: string[] }) => {
      const { queryLedgerIsolated } = await import("../../lib/ledger/isolated.js");
      const timeout = flagValue("seconds", flags.timeout, "--timeout");
      const maxRows = positiveInt(flags.maxRows, "--max-rows");
      // In a child process the limits can stop (lib/ledger/isolated.ts).
      const rows = await queryLedgerIsolated(await ledgerDir(flags), sql, {
        timeoutMs: timeout * 1000,
        memoryLimit: flags.memoryLimit,
        maxRows,
        allowRead: flags.allowRead,
      });
      if (flags.json) return printJson(rows);
      process.stdout.write(table(rows) + "\n");
    });

  addLedgerOption(ledger.command("compact").description("merge small segments (same rows); clean crashed writers' temp files"))
    .option("--small-bytes <n>", "merge segments smaller than this", String(16 * 1024 * 1024))
    .option("--json", "print the result as JSON")
    .action(async (flags: LedgerFlags & { smallBytes: string }) => {
      const { compactLedger } = await import("../../lib/ledger/compact.js");
      const r = await compactLedger(await ledgerDir(flags), { smallBytes: positiveInt(flags.smallBytes, "--small-bytes") });
      if (flags.json) return printJson(r);
      process.stdout.write(
        `merged ${r.merged} segments into ${r.written.length} (${r.rows} rows); removed ${r.tempsRemoved} stale temp files` +
          (r.rolledForward ? `; finished ${r.rolledForward} interrupted merges` : "") +
          (r.invalidRows ? `; left out ${r.invalidRows} invalid rows (their segments are in _quarantine)` : "") +
          "\n",
      );
    });

  addLedgerOption(ledger.command("ship").description("copy segments to another ledger over SFTP (resumable, never duplicates)"))
    .requiredOption("--to <target>", "ssh://user@host[:port]/path (or a local folder)")
    .option("--identity <file>", "SSH private key (default $HWLEDGER_SSH_KEY, ~/.ssh/id_ed25519, id_ecdsa, id_rsa, ssh-agent)")
    .option("--known-hosts <file>", "known_hosts file (default $HWLEDGER_KNOWN_HOSTS or ~/.ssh/known_hosts)")
    .option("--trust-host-key", "accept an unknown or changed host key and record it in known_hosts")
    .option("--connect-timeout <s>", "seconds to wait for the SSH handshake", String(DEFAULT_CONNECT_TIMEOUT_S))
    .option("--json", "print the result as JSON")
    .action(
      async (
        flags: LedgerFlags & { to: string; identity?: string; knownHosts?: string; trustHostKey?: boolean; connectTimeout: string },
      ) => {
        const { shipLedger } = await import("../../lib/ledger/ship.js");
        const { folderTarget } = await import("../../collector/transport/index.js");
        const { transport, root } = folderTarget(flags.to, {
          identityFile: flags.identity,
          knownHostsFile: flags.knownHosts,
          trustHostKey: flags.trustHostKey,
          connectTimeoutMs: flagValue("seconds", flags.connectTimeout, "--connect-timeout") * 1000,
        });
        const r = await shipLedger(await ledgerDir(flags), { fs: transport, root, label: flags.to }, { onProgress: progress });
        if (flags.json) return printJson(r);
        process.stdout.write(`shipped ${r.copied.length} segments (${r.bytes} bytes), ${r.skipped} already there\n`);
      },
    );

  addLedgerOption(ledger.command("append").description("append events from NDJSON on stdin (one event per line; id and ts filled in when missing)"))
    .option("--batch <n>", "events per segment (default: all of stdin in one)")
    .option("--host <name>", "host for events without one (default: this machine's name)")
    .option("--json", "print the segments written as JSON")
    .action(async (flags: LedgerFlags & { batch?: string; host?: string }) => {
      const { makeEvent } = await import("../../lib/fleet/events.js");
      const { appendEvents } = await import("../../lib/ledger/writer.js");
      const { hostname } = await import("node:os");
      const dir = await ledgerDir(flags);
      const defaultHost = flags.host ?? hostname().split(".")[0].replace(/[^A-Za-z0-9._-]/g, "-");
      const batch = flags.batch ? positiveInt(flags.batch, "--batch") : Infinity;
      const lines = (await readStdin()).split("\n").filter((l) => l.trim());
      const events = lines.map((l, i) => {
        let o: Record<string, unknown>;
        try {
          o = JSON.parse(l);
        } catch {
          throw new InputError(`stdin line ${i + 1}: not JSON`);
        }
        try {
          return makeEvent(o.type as never, o.payload as never, {
            host: (o.host as string) ?? defaultHost,
            device_id: (o.device_id as string | undefined) ?? undefined,
            ts: o.ts as string | undefined,
            id: o.id as string | undefined,
          });
        } catch (e) {
          throw new InputError(`stdin line ${i + 1}: ${(e as Error).message}`);
        }
      });
      const step = batch === Infinity ? Math.max(events.length, 1) : batch;
      const total = { events: events.length, appended: 0, skipped: 0, segments: [] as string[] };
      for (let i = 0; i < events.length; i += step) {
        const r = await appendEvents(dir, events.slice(i, i + step));
        total.appended += r.appended;
        total.skipped += r.skipped;
        total.segments.push(...r.segments);
      }
      if (flags.json) return printJson(total);
      process.stdout.write(
        `appended ${total.appended}, skipped ${total.skipped} already present` + (total.segments.length ? ` -> ${total.segments.join(", ")}` : "") + "\n",
      );
    });
}
