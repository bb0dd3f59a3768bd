// ULIDs (https://github.com/ulid/spec): 48-bit ms time + 80 random bits, Crockford base32, sortable by time.
// Generation and decoding are ulidx's (browser and Node builds; crypto.getRandomValues), monotonic within one
// millisecond so ids from one process sort in order. What ulidx has no function for stays here: the id pattern with
// the spec's maximum (the first character encodes the top 3 bits of a 48-bit time: 0–7, so 7ZZZZZZZZZZZZZZZZZZZZZZZZZ
// is the largest ULID) and a deterministic ULID from given bytes.
import { decodeTime, encodeTime, monotonicFactory } from "ulidx";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** 26 Crockford base32 digits; the first is at most 7 (128 bits: 7ZZZZZZZZZZZZZZZZZZZZZZZZZ is the largest ULID). */
export const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

const next = monotonicFactory();

export function ulid(now: number = Date.now()): string {
  return next(now);
}

/** The millisecond timestamp encoded in a ULID. */
export function ulidTime(id: string): number {
  return decodeTime(id);
}

/** A ULID from a time and 80 bits of given bytes (e.g. a content hash): same input, same id. */
export function ulidFrom(ms: number, bytes: Uint8Array): string {
  let r = "";
  // 80 bits = 16 digits of 5 bits, taken from the first 10 bytes.
  let acc = 0;
  let bits = 0;
  let bi = 0;
  while (r.length < 16) {
    if (bits < 5) {
      acc = (acc << 8) | bytes[bi++];
      bits += 8;
    }
    r += ALPHABET[(acc >> (bits - 5)) & 31];
    bits -= 5;
    acc &= (1 << bits) - 1;
  }
  return encodeTime(ms, 10) + r;
}
