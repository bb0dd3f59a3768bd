// Output helpers: one JSON document on stdout for --json, human units otherwise. Text meant for a terminal goes
// through safeText, so nothing read from an input (a config's name, a host's GPU name, a path) can move the cursor,
// recolour the screen or reorder the line (bidi controls).

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

// Humans see GiB/MiB with the unit; JSON keeps integer bytes (one formatter for CLI and pages).
export { formatBytes, formatCount } from "../lib/calc/format.js";

/**
 * C0 controls (but tab), DEL, C1 controls, and the Unicode bidi/format controls that reorder or hide text
 * (Unicode TR#9 explicit embeddings, overrides and isolates; the marks LRM/RLM/ALM; zero-width and BOM; line and
 * paragraph separators).
 */
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** One line of terminal text with every control or bidi character shown as \u{XXXX} instead of acting. */
export function safeText(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16).padStart(4, "0")}}`);
}

/** Prints lines of human text on stdout, each made safe (a newline inside a line is escaped, not obeyed). */
export function printLines(lines: readonly string[]): void {
  process.stdout.write(lines.map(safeText).join("\n") + "\n");
}

/** Progress and remarks for humans go to stderr, made safe too. */
export function progress(line: string): void {
  process.stderr.write(safeText(line) + "\n");
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
