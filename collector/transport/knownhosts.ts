// known_hosts checking as OpenSSH does it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): plain or hashed
// (|1|salt|HMAC-SHA1) host patterns, "[host]:port" for non-22 ports. A key on a line marked @revoked is refused
// always, even when trusted explicitly (OpenSSH sshconnect.c check_host_key: HOST_REVOKED, "REVOKED HOST KEY
// DETECTED"); @cert-authority lines name CAs, which hwledger does not use, so they vouch for nothing. A host with no
// key of the offered type is unknown; a host with a key of that type that differs has a changed key. Both are
// refused unless the user trusts the key explicitly, which records it (replacing a changed one).
import { createHash, createHmac } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { InputError } from "../../lib/calc/types.js";
import { readRegularFile } from "../../loaders/files.js";
import { dirname } from "node:path";

export type HostKeyVerdict = { status: "known" } | { status: "unknown" } | { status: "changed"; line: number } | { status: "revoked"; line: number };

/** The name known_hosts uses for a host and port. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type inside an SSH wire-format public key blob (first string). */
export function keyType(blob: Buffer): string {
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString("latin1");
}

/** OpenSSH-style fingerprint: SHA256:<base64 without padding>. */
export function fingerprint(blob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    const h = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return h === hash;
  }
  let matched = false;
  for (const p of pattern.split(",")) {
    const neg = p.startsWith("!");
    const glob = neg ? p.slice(1) : p;
    const re = new RegExp("^" + glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
    if (re.test(name)) {
      if (neg) return false;
      matched = true;
    }
  }
  return matched;
}

interface Entry {
  line: number;
  marker?: "revoked" | "cert-authority";
  type: string;
  blob: Buffer;
}

function entriesFor(text: string, name: string): Entry[] {
  const out: Entry[] = [];
  text.split("\n").forEach((raw, i) => {
    let l = raw.trim();
    if (!l || l.startsWith("#")) return;
    let marker: Entry["marker"];
    if (l.startsWith("@")) {
      const [m, ...rest] = l.split(/\s+/);
      if (m !== "@revoked" && m !== "@cert-authority") return; // an unknown marker: OpenSSH skips the line
      marker = m.slice(1) as Entry["marker"];
      l = rest.join(" ");
    }
    const [pattern, type, b64] = l.split(/\s+/);
    if (!pattern || !type || !b64 || !patternMatches(pattern, name)) return;
    out.push({ line: i, marker, type, blob: Buffer.from(b64, "base64") });
  });
  return out;
}

/** known_hosts as text ("" when absent); a FIFO, device or directory in its place is refused (InputError), never read. */
export function readKnownHosts(file: string): string {
  try {
    return readRegularFile(file, "known_hosts file", "textFileBytes").toString("utf8");
  } catch (e) {
    if (e instanceof InputError && /: no such /.test(e.message)) return "";
    throw e;
  }
}

export async function checkHostKey(file: string, host: string, port: number, blob: Buffer): Promise<HostKeyVerdict> {
  const all = entriesFor(readKnownHosts(file), knownHostName(host, port));
  const revoked = all.find((e) => e.marker === "revoked" && e.blob.equals(blob));
  if (revoked) return { status: "revoked", line: revoked.line + 1 };
  const entries = all.filter((e) => e.marker === undefined);
  if (entries.some((e) => e.blob.equals(blob))) return { status: "known" };
  const sameType = entries.find((e) => e.type === keyType(blob));
  return sameType ? { status: "changed", line: sameType.line + 1 } : { status: "unknown" };
}

/** Records a trusted key, dropping this host's other keys of the same type (a changed key replaces the old one). */
// Recording is read-modify-write of one file: calls in this process (collect --hosts trusts many hosts at once)
// take turns, so none loses another's line.
let recording: Promise<unknown> = Promise.resolve();

export function trustHostKey(file: string, host: string, port: number, blob: Buffer): Promise<void> {
  const turn = recording.then(() => recordHostKey(file, host, port, blob));
  recording = turn.catch(() => undefined);
  return turn;
}

async function recordHostKey(file: string, host: string, port: number, blob: Buffer): Promise<void> {
  const name = knownHostName(host, port);
  const type = keyType(blob);
  const text = readKnownHosts(file);
  const drop = new Set(entriesFor(text, name).filter((e) => e.marker === undefined && e.type === type).map((e) => e.line));
  const kept = text.split("\n").filter((l, i) => !drop.has(i) && l.trim() !== "");
  kept.push(`${name} ${type} ${blob.toString("base64")}`);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, kept.join("\n") + "\n", { mode: 0o600 });
}
