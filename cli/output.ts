// Output helpers: one JSON document on stdout for --json, human units otherwise.

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

// Humans see GiB/MiB with the unit; JSON keeps integer bytes (one formatter for CLI and pages).
export { formatBytes, formatCount } from "../lib/calc/format.js";

/** Progress for long work goes to stderr. */
export function progress(line: string): void {
  process.stderr.write(line + "\n");
}
