// Human units, shared by the CLI and the pages: bytes as GiB/MiB with the unit, counts as B/M.
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** GiB with two decimals (MiB below 1 GiB). JSON keeps integer bytes; this is for people. */
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
