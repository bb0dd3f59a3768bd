export const ROOT: string;
export const DIST: string;
export function isDistStale(): boolean;
export function buildSite(opts?: { quiet?: boolean; ifStale?: boolean }): number;
