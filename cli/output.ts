// Output helpers: one JSON document on stdout for --json, human units otherwise. Text meant for a terminal goes
// through safeText (lib/terminal.ts).

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

// Humans see GiB/MiB with the unit; JSON keeps integer bytes (one formatter for CLI and pages).
export { formatBytes, formatCount } from "../lib/calc/format.js";

export { safeText, progress } from "../lib/terminal.js";
import { safeText } from "../lib/terminal.js";

/** Prints lines of human text on stdout, each made safe (a newline inside a line is escaped, not obeyed). */
export function printLines(lines: readonly string[]): void {
  process.stdout.write(lines.map(safeText).join("\n") + "\n");
}

/**
 * A reader that closed the pipe (`hwledger devices --json | head -c100`) ends the output, not the command with a
 * stack trace: EPIPE on stdout or stderr drops further writes, and the command finishes with its own exit code.
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") throw e;
      stream.write = (() => true) as typeof stream.write;
    });
  }
}
