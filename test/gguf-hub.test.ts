// --gguf by URL or HF id: only the header travels. A real HTTP server on 127.0.0.1 (node:http, honouring Range like
// huggingface.co's resolve/ route, plus the hub API's file tree) serves real GGUF files made by the test writer (the
// files the real llama.cpp loads in llamacpp-real.test.ts), and counts every byte it sends. Split files follow
// llama.cpp's gguf-split layout (tools/gguf-split/gguf-split.cpp: the first shard keeps all metadata, every shard
// carries split.no u16, split.count u16, split.tensors.count i32; names -0000k-of-0000N.gguf).
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pickGgufFile, parseHubGgufRef } from "../loaders/gguf-hub.js";
import { runCli, runCliAsync, runCliJson } from "./helpers/cli.js";
import { str, tinyModel, u16, writeGguf } from "./helpers/gguf-writer.js";
import type { GgufValue } from "./helpers/gguf-writer.js";

const dir = mkdtempSync(join(tmpdir(), "hwledger-hub-"));
// 4 layers × 512 wide in F32: ~19 MiB of tensor data behind a header of a few KiB.
const { metadata, tensors } = tinyModel({ arch: "llama", nLayer: 4, nEmbd: 512, nHead: 8, nHeadKv: 4 });
writeGguf(join(dir, "tiny-Q8_0.gguf"), metadata, tensors);
const half = Math.floor(tensors.length / 2);
const splitKeys = (no: number, count: number): Record<string, GgufValue> => ({ "split.no": u16(no), "split.count": u16(count), "split.tensors.count": { t: "i32", v: tensors.length } });
writeGguf(join(dir, "tiny-Q4_K_M-00001-of-00002.gguf"), { ...metadata, ...splitKeys(0, 2) }, tensors.slice(0, half));
writeGguf(join(dir, "tiny-Q4_K_M-00002-of-00002.gguf"), splitKeys(1, 2), tensors.slice(half));
writeGguf(join(dir, "mmproj-tiny-f16.gguf"), { "general.architecture": str("clip") }, []);
const FILES = ["tiny-Q8_0.gguf", "tiny-Q4_K_M-00001-of-00002.gguf", "tiny-Q4_K_M-00002-of-00002.gguf", "mmproj-tiny-f16.gguf"];
const size = (f: string) => statSync(join(dir, f)).size;

const served = new Map<string, number>();
const server = createServer((req, res) => {
  const url = req.url ?? "";
  if (url.startsWith("/api/models/acme/tiny-GGUF/tree/main")) {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify([{ type: "file", path: "README.md" }, ...FILES.map((path) => ({ type: "file", path, size: size(path) }))]));
    return;
  }
  const m = /^\/acme\/tiny-GGUF\/resolve\/main\/([\w.-]+)$/.exec(url);
  if (!m || !FILES.includes(m[1])) return void res.writeHead(404).end();
  const data = readFileSync(join(dir, m[1]));
  const r = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? "");
  const start = r ? Number(r[1]) : 0;
  const end = r && r[2] ? Math.min(Number(r[2]), data.length - 1) : data.length - 1;
  res.writeHead(r ? 206 : 200, { "accept-ranges": "bytes", "content-length": String(end - start + 1), ...(r ? { "content-range": `bytes ${start}-${end}/${data.length}` } : {}) });
  const body = data.subarray(start, end + 1);
  // Count what actually left the server (a client that stops reading early closes the socket).
  res.on("close", () => served.set(m[1], (served.get(m[1]) ?? 0) + Math.min(body.length, (res.socket?.bytesWritten ?? body.length))));
  res.end(body);
});
let base = "";
beforeAll(async () => {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const online = (endpoint = base) => ({ env: { HWLEDGER_OFFLINE: undefined, HF_ENDPOINT: endpoint } });
const planArgs = (gguf: string) => ["plan", "--gguf", gguf, "--engine", "llama.cpp", "--context", "1024", "--json"];
const local = runCliJson(planArgs(join(dir, "tiny-Q8_0.gguf")).slice(0, -1));

describe("--gguf over HTTP: the header, not the file", () => {
  it("a URL: the plan equals the local file's, and the server sent a small part of the file", async () => {
    served.clear();
    const r = await runCliAsync(planArgs(`${base}/acme/tiny-GGUF/resolve/main/tiny-Q8_0.gguf`), online());
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).memory).toEqual(local.memory);
    const sent = served.get("tiny-Q8_0.gguf")!;
    expect(size("tiny-Q8_0.gguf")).toBeGreaterThan(16 * 1024 ** 2);
    // The reader asks for the first MiB (gguf-header.ts FIRST_READ) and stops at the header's end.
    expect(sent).toBeLessThanOrEqual(1024 ** 2);
    expect(sent / size("tiny-Q8_0.gguf")).toBeLessThan(0.07);
    console.log(`--gguf URL: ${sent} of ${size("tiny-Q8_0.gguf")} bytes served`);
  });

  it("org/repo: Q4_K_M by default (llama.cpp -hf), a split set read shard by shard and summed, projectors skipped", async () => {
    served.clear();
    const r = await runCliAsync(planArgs("acme/tiny-GGUF"), online());
    expect(r.code, r.stderr).toBe(0);
    // Same tensors as the single file: the same plan.
    expect(JSON.parse(r.stdout).memory).toEqual(local.memory);
    expect([...served.keys()].sort()).toEqual(["tiny-Q4_K_M-00001-of-00002.gguf", "tiny-Q4_K_M-00002-of-00002.gguf"]);
    for (const [f, n] of served) expect(n, f).toBeLessThan(size(f) / 4);
  });

  it("org/repo:quant and org/repo:file pick that file; no match is one line, exit 2", async () => {
    served.clear();
    const q = await runCliAsync(planArgs("acme/tiny-GGUF:q8_0"), online());
    expect(q.code, q.stderr).toBe(0);
    expect([...served.keys()]).toEqual(["tiny-Q8_0.gguf"]);
    const f = await runCliAsync(planArgs("acme/tiny-GGUF:tiny-Q8_0.gguf"), online());
    expect(JSON.parse(f.stdout).memory).toEqual(local.memory);
    const none = await runCliAsync(planArgs("acme/tiny-GGUF:Q5_K_S"), online());
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split("\n")).toHaveLength(1);
    expect(none.stderr).toMatch(/no GGUF file matches "Q5_K_S"/);
  });

  it("offline (or an unreachable hub): one clear line, exit 2", async () => {
    const off = runCli(planArgs("acme/tiny-GGUF"));
    expect(off.code).toBe(2);
    expect(off.stderr.trim().split("\n")).toHaveLength(1);
    expect(off.stderr).toMatch(/needs the network \(offline mode is on\)/);
    const down = await runCliAsync(planArgs("acme/tiny-GGUF"), online("http://127.0.0.1:9"));
    expect(down.code).toBe(2);
    expect(down.stderr.trim().split("\n")).toHaveLength(1);
    expect(down.stderr).toMatch(/cannot list the repo's files/);
  });
});

describe("HF GGUF references", () => {
  it("parses org/repo[:quant|:file] and leaves paths and URLs alone", () => {
    expect(parseHubGgufRef("bartowski/Qwen2.5-7B-Instruct-GGUF")).toEqual({ repo: "bartowski/Qwen2.5-7B-Instruct-GGUF" });
    expect(parseHubGgufRef("org/repo:Q4_K_M")).toEqual({ repo: "org/repo", tag: "Q4_K_M" });
    expect(parseHubGgufRef("org/repo:sub/m-Q8_0.gguf")).toEqual({ repo: "org/repo", file: "sub/m-Q8_0.gguf" });
    expect(parseHubGgufRef("models/m.gguf")).toBeUndefined();
    expect(parseHubGgufRef("https://x/y.gguf")).toBeUndefined();
  });

  it("picks like llama.cpp -hf: the tag, else Q4_K_M, else the first; the first shard of a split set", () => {
    const files = ["a/m-Q8_0.gguf", "a/m-Q4_K_M-00002-of-00003.gguf", "a/m-Q4_K_M-00001-of-00003.gguf", "a/mmproj-f16.gguf"];
    expect(pickGgufFile("o/r", files)).toBe("a/m-Q4_K_M-00001-of-00003.gguf");
    expect(pickGgufFile("o/r", files, "q8_0")).toBe("a/m-Q8_0.gguf");
    expect(pickGgufFile("o/r", ["m-IQ4_XS.gguf", "m-F16.gguf"])).toBe("m-F16.gguf");
    expect(() => pickGgufFile("o/r", ["README.md"])).toThrow(/no GGUF file/);
  });
});
