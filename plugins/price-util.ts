// Shared pieces of the price plugins: the manifest shape, snapshot reading, CSV rows, online fetch with timeout.
import { readFileSync } from "node:fs";
import type { Offer, PurchasePrice } from "../lib/fleet/offers.js";

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

export async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

/** A number from a provider field, or undefined for empty/null. */
export function num(v: unknown): number | undefined {
  if (v === null || v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
