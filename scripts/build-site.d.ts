export const ROOT: string;
export const DIST: string;
export function isDistStale(opts?: { ledger?: string }): boolean;
export function buildSite(opts?: { quiet?: boolean; ifStale?: boolean; ledger?: string }): number;
