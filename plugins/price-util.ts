// Shared pieces of the price plugins: the manifest shape, snapshot reading, CSV rows, online fetch with timeout.
// Credentials travel in request headers only, never in a URL, and every error a plugin raises is redacted (the one
// helper in lib/fleet/redact.ts), so no key reaches stderr, --json output or the ledger.
import { readFileSync } from "node:fs";
import type { Offer, PurchasePrice } from "../lib/fleet/offers.js";
import { redact, secretValues } from "../lib/fleet/redact.js";

export interface PriceManifest {
  kind: "price";
  name: string;
  version: string;
  description: string;
  provider: string;
  /** Offers from the shipped snapshot (works offline). */
  snapshot(): Offer[];
  /** Offers from the provider's live API; throws when unreachable (the loader falls back to the snapshot). */
  fetchOnline?(timeoutMs: number): Promise<Offer[]>;
  /** Owned-hardware purchase prices, for the static catalog. */
  purchasePrices?(): PurchasePrice[];
}

export function readSnapshot(url: URL): string {
  return readFileSync(url, "utf8");
}

/** RFC 4180 CSV (quoted fields with commas and doubled quotes, CRLF or LF), as SkyPilot's catalogs are written. */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...data] = rows.filter((r) => r.length > 1 || r[0] !== "");
  return data.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

/**
 * A provider's API URL: its public origin, or HWLEDGER_PRICE_API_BASE when set (a mirror or proxy; the tests point
 * it at a local server), keeping the path.
 */
export function apiUrl(url: string): string {
  const base = process.env.HWLEDGER_PRICE_API_BASE;
  if (!base) return url;
  const u = new URL(url);
  return base.replace(/\/+$/, "") + u.pathname + u.search;
}

/** Text safe to show or record: credentials from the environment and from URLs replaced by [redacted]. */
export function redacted(text: string): string {
  return redact(text, secretValues(process.env));
}

/** What a failed request is called in errors: the URL without its query (which may carry filters, never keys). */
function where(url: string): string {
  const u = new URL(url);
  return redacted(`${u.origin}${u.pathname}`);
}

export async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(apiUrl(url), { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new Error(redacted(`${where(apiUrl(url))}: ${(e as Error).message.split("\n")[0]}${cause ? ` (${cause})` : ""}`));
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    const auth = res.status === 401 || res.status === 403 ? " (the API key was refused)" : "";
    throw new Error(`${where(apiUrl(url))}: HTTP ${res.status}${auth}`);
  }
  return res;
}

/** A number from a provider field, or undefined for empty/null. */
export function num(v: unknown): number | undefined {
  if (v === null || v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
