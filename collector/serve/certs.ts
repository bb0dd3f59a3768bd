// A small private CA for the fleet's mutual TLS, made by the system `openssl` (no ASN.1 of our own):
//   DIR/ca.pem, DIR/ca-key.pem          the CA (P-256, 10 years)
//   DIR/NAME.pem, DIR/NAME-key.pem      a leaf signed by it (CN = NAME; --server adds loopback + host name SANs)
// Private keys are created 0600 before openssl writes into them (it keeps an existing file's mode) and are never
// read, printed or logged here. NAME becomes the ledger host of every event its holder sends (collector/serve).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, rm, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { InputError } from "../../lib/calc/types.js";

const run = promisify(execFile);

/** A certificate name: a ledger host name (lib/fleet/events.ts HOST_RE's alphabet) that fits a CN (64 chars). */
export const CERT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RESERVED = new Set(["ca"]);

export function checkCertName(name: string): string {
  if (!CERT_NAME_RE.test(name) || name.length > 64) {
    throw new InputError(`--name must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got ${JSON.stringify(name.slice(0, 80))}`);
  }
  if (RESERVED.has(name.toLowerCase())) throw new InputError(`--name ${name} is reserved for the CA's own files`);
  return name;
}

export const caFiles = (dir: string) => ({ cert: join(dir, "ca.pem"), key: join(dir, "ca-key.pem") });
export const leafFiles = (dir: string, name: string) => ({ cert: join(dir, `${checkCertName(name)}.pem`), key: join(dir, `${name}-key.pem`) });

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args, { maxBuffer: 1 << 20 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") throw new Error("openssl not found: install it (Debian: apt-get install openssl)");
    // openssl's message names files and algorithms, never key material.
    throw new Error(`openssl ${args[0]} failed: ${(err.stderr ?? err.message).trim().split("\n")[0]}`);
  }
}

/** Creates an empty 0600 file that must not exist yet (openssl then writes the key into it, keeping the mode). */
async function privateFile(path: string): Promise<void> {
  const fh = await open(path, "wx", 0o600);
  await fh.close();
  await chmod(path, 0o600); // umask cannot widen it, but be explicit
}

async function newKey(path: string): Promise<void> {
  await privateFile(path);
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path]);
}

export async function initCa(dir: string): Promise<{ cert: string }> {
  const f = caFiles(dir);
  if ((await exists(f.cert)) || (await exists(f.key))) throw new InputError(`${dir} already holds a CA (ca.pem or ca-key.pem): refusing to replace it`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await newKey(f.key);
    await openssl([
      "req", "-x509", "-new", "-key", f.key, "-out", f.cert, "-days", "3650", "-subj", "/CN=hwledger fleet CA",
      "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]);
  } catch (e) {
    await rm(f.key, { force: true });
    await rm(f.cert, { force: true });
    throw e;
  }
  return { cert: f.cert };
}

export interface IssueOptions {
  /** Server certificate: serverAuth plus localhost, 127.0.0.1, ::1 and this machine's name as SANs. */
  server?: boolean;
  /** Validity in days (default 825, the longest browsers accept for a leaf). */
  days?: number;
}

/** The SANs of a server certificate: loopback and this machine's name (when it is a valid DNS label). */
export function serverSans(): string[] {
  const sans = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"];
  const h = hostname();
  if (/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(h) && h !== "localhost") sans.push(`DNS:${h}`);
  return sans;
}

export async function issueCert(dir: string, name: string, opts: IssueOptions = {}): Promise<{ cert: string }> {
  checkCertName(name);
  const ca = caFiles(dir);
  if (!(await exists(ca.cert)) || !(await exists(ca.key))) throw new InputError(`${dir} holds no CA: run \`hwledger certs init --dir ${dir}\` first`);
  const f = leafFiles(dir, name);
  if ((await exists(f.cert)) || (await exists(f.key))) throw new InputError(`${dir} already holds a certificate named ${name}: refusing to replace it`);
  const tag = randomBytes(6).toString("hex");
  const csr = join(dir, `.${name}-${tag}.csr`);
  const ext = join(dir, `.${name}-${tag}.ext`);
  const lines = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
    `extendedKeyUsage=${opts.server ? "serverAuth,clientAuth" : "clientAuth"}`,
    ...(opts.server ? [`subjectAltName=${serverSans().join(",")}`] : []),
  ];
  try {
    await newKey(f.key);
    await openssl(["req", "-new", "-key", f.key, "-subj", `/CN=${name}`, "-out", csr]);
    await writeFile(ext, lines.join("\n") + "\n");
    await openssl([
      "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", `0x${randomBytes(16).toString("hex")}`,
      "-days", String(opts.days ?? 825), "-sha256", "-extfile", ext, "-out", f.cert,
    ]);
  } catch (e) {
    await rm(f.key, { force: true });
    await rm(f.cert, { force: true });
    throw e;
  } finally {
    await rm(csr, { force: true });
    await rm(ext, { force: true });
  }
  return { cert: f.cert };
}
