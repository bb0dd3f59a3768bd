// Secrets out of text for the cloud plugins and commands: lib/fleet/redact.ts's rule (credentials from the
// environment and from URLs) plus the keys hwledger read from providers' config files, which the environment does
// not hold. Every message that could carry a key (HTTP errors, provider bodies echoed back) passes through here.
import { redact as redactWith, secretValues } from "../lib/fleet/redact.js";

const MIN_SECRET_LENGTH = 6;
const fromFiles = new Set<string>();

/** Remembers a key read from a file (or anywhere else) so every later message has it redacted. */
export function registerSecret(s: string | undefined): void {
  if (s && s.length >= MIN_SECRET_LENGTH) fromFiles.add(s);
}

/** The text with every known credential (environment, files read, `extra`) replaced by [redacted]. */
export function redact(text: string, extra: Iterable<string> = []): string {
  const mine = [...fromFiles, ...extra].filter((s) => s && s.length >= MIN_SECRET_LENGTH).flatMap((s) => [s, encodeURIComponent(s)]);
  const all = [...new Set([...mine, ...secretValues(process.env)])].sort((a, b) => b.length - a.length);
  return redactWith(text, all);
}

/** An error whose message (and stack) no longer carries a known secret; same class, so exit codes hold. */
export function redactError<E>(e: E): E {
  if (e instanceof Error) {
    e.message = redact(e.message);
    if (e.stack) e.stack = redact(e.stack);
  }
  return e;
}
