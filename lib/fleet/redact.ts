// Secrets never leave the process: every text that may carry one (a provider's error, a URL, a failure reason bound
// for stderr, JSON or the ledger) passes through redact() first. Secrets are the values of the environment variables
// that hold credentials (API keys, tokens, passwords) and the credential parts of URLs (user:password@, ?api_key=).

/** Environment variables whose values are credentials, by name. */
const SECRET_NAME = /(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSPHRASE|PASSWD|CREDENTIALS?)$/i;
/** Variables named like credentials that hold a file path instead (shown in errors so the user can fix them). */
const PATH_VARIABLES = new Set(["HWLEDGER_SSH_KEY"]);
/** Shorter values are too likely to occur in ordinary text ("1", "true") to be replaced everywhere. */
const MIN_SECRET_LENGTH = 6;
/** Query parameters that carry credentials (RunPod ?api_key=, generic ?token=, ?access_token=, ?key=, ?sig=). */
const SECRET_PARAM = /([?&](?:api_?key|apikey|key|token|access_token|auth|password|secret|sig|signature)=)[^&#\s"']*/gi;
/** user:password@ in a URL. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@"']*:)[^/\s@"']*@/gi;

export const REDACTED = "[redacted]";

/** The credential values present in an environment (process.env at the call sites). */
export function secretValues(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= MIN_SECRET_LENGTH && SECRET_NAME.test(name) && !PATH_VARIABLES.has(name)) out.push(value, encodeURIComponent(value));
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

/** The text with every credential replaced by [redacted]. */
export function redact(text: string, secrets: readonly string[]): string {
  let s = text.replace(SECRET_PARAM, `$1${REDACTED}`).replace(URL_PASSWORD, `$1${REDACTED}@`);
  for (const v of secrets) if (s.includes(v)) s = s.split(v).join(REDACTED);
  return s;
}
