// ULIDs (https://github.com/ulid/spec): 48-bit ms time + 80 random bits, Crockford base32, sortable by time.
// Monotonic within one millisecond (the random part is incremented) so ids from one process sort in order.
// Pure: uses only globalThis.crypto (Node 20 and browsers).

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** 26 Crockford base32 digits; the first is at most 7 (128 bits: 7ZZZZZZZZZZZZZZZZZZZZZZZZZ is the largest ULID). */
export const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

let lastTime = -1;
const lastRand = new Uint8Array(16); // 16 base32 digits of randomness (5 bits each)

function encodeTime(ms: number): string {
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

export function ulid(now: number = Date.now()): string {
  if (now === lastTime) {
    // Increment the 80-bit random part as a base32 number; overflow within one ms is practically impossible.
    let i = 15;
    while (i >= 0 && lastRand[i] === 31) lastRand[i--] = 0;
    if (i < 0) throw new Error("ulid: random part overflowed within one millisecond");
    lastRand[i]++;
  } else {
    lastTime = now;
    const bytes = new Uint8Array(16);
    globalThis.crypto.getRandomValues(bytes);
    // Top digit kept below 16 so increments have room before overflow.
    for (let i = 0; i < 16; i++) lastRand[i] = bytes[i] & (i === 0 ? 15 : 31);
  }
  let r = "";
  for (let i = 0; i < 16; i++) r += ALPHABET[lastRand[i]];
  return encodeTime(now) + r;
}

/** The millisecond timestamp encoded in a ULID. */
export function ulidTime(id: string): number {
  let ms = 0;
  for (let i = 0; i < 10; i++) ms = ms * 32 + ALPHABET.indexOf(id[i]);
  return ms;
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
  return encodeTime(ms) + r;
}
