// Text meant for a terminal. Anything read from an input (a config's name, a host's GPU name, a path) goes through
// safeText, so it cannot move the cursor, recolour the screen or reorder the line (bidi controls). The CLI and the
// collector (the launcher's remarks) both write through here.

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

/** Progress and remarks for humans go to stderr, made safe too. */
export function progress(line: string): void {
  process.stderr.write(safeText(line) + "\n");
}
