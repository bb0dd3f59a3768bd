// Secrets out of text: every message that could carry an API key (HTTP errors, provider bodies echoed back) goes
// through here before it reaches stderr, the ledger or --json. One small module so the input-hardening work's
// redaction helper can replace it without touching callers.

const secrets = new Set<string>();

/** Remembers a secret for redactKnown() (keys are registered when read). Short strings are ignored. */
export function registerSecret(s: string | undefined): void {
  if (s && s.length >= 6) secrets.add(s);
}

/** Replaces each secret (and its URL-encoded form) with [redacted]. */
export function redact(text: string, extra: Iterable<string> = []): string {
  let out = text;
  for (const s of [...secrets, ...extra]) {
    if (!s || s.length < 6) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join("[redacted]");
  }
  return out;
}

/** An error whose message (and stack) no longer carries a known secret; same class, so exit codes hold. */
export function redactError<E>(e: E): E {
  if (e instanceof Error) {
    const clean = redact(e.message);
    if (clean !== e.message) {
      e.message = clean;
      if (e.stack) e.stack = redact(e.stack);
    }
  }
  return e;
}
