// Output helpers: one JSON document on stdout for --json, human units otherwise.

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** Humans see GiB/MiB with the unit; JSON keeps integer bytes. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (Math.abs(bytes) >= GIB) return `${(bytes / GIB).toFixed(2)} GiB`;
  return `${(bytes / MIB).toFixed(2)} MiB`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return String(n);
}

/** Progress for long work goes to stderr. */
export function progress(line: string): void {
  process.stderr.write(line + "\n");
}
