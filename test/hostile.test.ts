// Hostile and broken input through the real CLI (issue #12 findings 3, 4, 9, 10, 12): each case is spawned as a user
// would, with HOME, the XDG folders and HWLEDGER_LEDGER in a temp folder, under a 1 GiB heap (running out of memory
// is a failure, not a slow success) and a 20 s spawn limit (a hang is a failure; no timing is asserted below it).
// Every case must succeed (exit 0) or be refused as bad input: exit 2, exactly one line on stderr, nothing on stdout,
// no stack trace, no raw control character. A host that refuses connections is the one runtime failure (exit 1, the
// design's contract for a host that is down).
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN_PATH, runCliAsync } from "./helpers/cli.js";
import { LLAMA, hostileFiles, writeConfig } from "./helpers/hostile-inputs.js";
import type { HostileFiles } from "./helpers/hostile-inputs.js";
import { freePort, makeKeyPair } from "./helpers/sshd.js";

const root = mkdtempSync(join(tmpdir(), "hwl-hostile-"));
const env = {
  HOME: join(root, "home"),
  XDG_DATA_HOME: join(root, "home", "data"),
  XDG_CONFIG_HOME: join(root, "home", "config"),
  XDG_CACHE_HOME: join(root, "home", "cache"),
  HWLEDGER_LEDGER: join(root, "ledger"),
  HWLEDGER_CACHE: join(root, "cache"),
  HWLEDGER_KNOWN_HOSTS: join(root, "known_hosts"),
  HWLEDGER_SSH_KEY: undefined,
  SSH_AUTH_SOCK: undefined,
};
const MODEL = "meta-llama/Llama-3.1-8B-Instruct";
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

let f: HostileFiles;
const cfg = (name: string, c: unknown) => writeConfig(root, name, c);
beforeAll(() => {
  f = hostileFiles(join(root, "files"));
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** At most two CLIs at once (a 2-core machine): the 20 s limit then measures the command, not the queue. */
let running = 0;
const queue: Array<() => void> = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  while (running >= 2) await new Promise<void>((r) => queue.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    queue.shift()?.();
  }
}

async function hwledger(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<Outcome> {
  const r = await slot(() => runCliAsync(args, { env: { ...env, ...extraEnv }, timeoutMs: 20_000, nodeArgs: ["--max-old-space-size=1024"] }));
  expect(r.timedOut, `hwledger ${args.join(" ")} did not finish within 20 s`).toBe(false);
  expect(r.stderr).not.toMatch(/\n\s+at |Unhandled|FATAL ERROR|heap out of memory|Invalid array length/);
  expect(r.stderr).not.toMatch(RAW);
  return r;
}

/** Refused as bad input: exit 2, one line on stderr naming what was wrong, nothing on stdout. */
async function refused(args: string[], message: RegExp, extraEnv?: Record<string, string | undefined>): Promise<string> {
  const r = await hwledger(args, extraEnv);
  expect(r.code, `hwledger ${args.join(" ")}: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr.trimEnd()).toMatch(message);
  return r.stderr;
}

const plan = (model: string, ...more: string[]) => ["plan", "--model", model, "--engine", "vllm", "--context", "4096", ...more];
const planGguf = (file: string) => ["plan", "--gguf", file, "--engine", "llama.cpp", "--context", "4096"];

describe.concurrent("finding 3: work is bounded — absurd sizes are refused before any per-layer or per-rank work", () => {
  it.each([
    ["plan --tp 1e9", plan(MODEL, "--tp", "1e9"), /--tp is too large \(the limit is 1,024: /],
    ["plan --pp 1e9", plan(MODEL, "--pp", "1e9"), /--pp is too large \(the limit is 1,024: /],
    ["plan --tp 512 --pp 512", plan(MODEL, "--tp", "512", "--pp", "512"), /--tp × --pp is too large \(the limit is 4,096: /],
    ["plan --seqs 1e12", plan(MODEL, "--seqs", "1e12"), /--seqs is too large/],
    ["split over 2000 devices", ["split", "--model", MODEL, "--devices", Array(2000).fill("rtx-4090").join(",")], /number of --devices is 2,000, too large/],
    ["collect --interval 1e9", ["collect", "--interval", "1e9"], /--interval is too large|--interval must be at most 86400 s/],
  ])("%s", async (_name, args, message) => {
    await refused(args, message);
  });

  it.each([
    ["num_hidden_layers 10000000", 10_000_000],
    ["num_hidden_layers 1e12", 1e12],
    ["num_hidden_layers 100000", 100_000],
  ])("a config with %s", async (_name, layers) => {
    await refused(plan(cfg(`layers-${layers}`, { ...LLAMA, num_hidden_layers: layers })), /field "num_hidden_layers" is .*, too large \(the limit is 1,024: 8× the deepest real model/);
  });

  it.each([
    ["num_local_experts 1e9 (Mixtral)", { ...LLAMA, model_type: "mixtral", num_local_experts: 1e9, num_experts_per_tok: 2 }, /field "num_local_experts" is 1000000000, too large/],
    ["vocab_size 1e300", { ...LLAMA, vocab_size: 1e300 }, /field "vocab_size" must be a whole number|field "vocab_size" is .*too large/],
    ["intermediate_size 1e12", { ...LLAMA, intermediate_size: 1e12 }, /field "intermediate_size" is 1000000000000, too large/],
    ["max_position_embeddings 1e15", { ...LLAMA, max_position_embeddings: 1e15 }, /field "max_position_embeddings" is .*, too large/],
  ])("a config with %s", async (name, config, message) => {
    await refused(plan(cfg(name.replace(/\W+/g, "-"), config)), message);
  });

  it("a GGUF claiming block_count 1e8", async () => {
    await refused(planGguf(f.gguf.blocks1e8), /llama\.block_count is 100,000,000, too large \(the limit is 1,024/);
  });

  it.each([
    ["a FIFO as --gguf", () => planGguf(f.fifo), /must be a regular file, not a FIFO/],
    ["a FIFO as --model", () => plan(f.fifo), /config\.json must be a regular file, not a FIFO/],
    ["a directory as --gguf", () => planGguf(root), /must be a regular file, not a directory/],
    ["a character device as --gguf", () => planGguf("/dev/zero"), /must be a regular file, not a character device/],
    ["a character device as --model", () => plan("/dev/zero"), /must be a regular file, not a character device/],
    ["a FIFO as --ledger", () => ["devices", "--ledger", f.fifo], /the ledger must be a folder/],
    ["a FIFO as known_hosts", () => ["probe", "--host", "ssh://nobody@127.0.0.1:1"], /known_hosts file must be a regular file, not a FIFO/],
    ["a FIFO as the SSH key", () => ["probe", "--host", "ssh://nobody@127.0.0.1:1"], /SSH key must be a regular file, not a FIFO/],
    ["a GGUF as the SSH key", () => ["probe", "--host", "ssh://nobody@127.0.0.1:1"], /not an SSH private key/],
  ])("%s is refused without blocking", async (name, args, message) => {
    const extra = name.includes("known_hosts")
      ? { HWLEDGER_KNOWN_HOSTS: f.fifo, HWLEDGER_SSH_KEY: f.gguf.ok }
      : name.includes("SSH key")
        ? { HWLEDGER_SSH_KEY: name.includes("FIFO") ? f.fifo : f.gguf.ok }
        : {};
    await refused(args(), message, extra);
  });
});

describe.concurrent("finding 4: a GGUF is read to its declared end or refused as truncated", () => {
  it("the intact file plans", async () => {
    const r = await hwledger([...planGguf(f.gguf.ok), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).params.total).toBeGreaterThan(100_000);
  });
  it.each([
    ["cut at 215 bytes", () => f.gguf.cut215, /truncated GGUF header: metadata entry \d+ of \d+ needs byte [\d,]+ but the file ends at byte 215$/],
    ["cut inside the tensor infos", () => f.gguf.cutHeader, /truncated GGUF header: tensor info \d+ of \d+ needs byte/],
    ["cut inside the tensor data", () => f.gguf.cutData, /truncated GGUF: the data of tensor .* ends at byte [\d,]+ but the file has [\d,]+ bytes$/],
    ["empty", () => f.gguf.empty, /truncated GGUF header/],
    ["bad magic", () => f.gguf.badMagic, /not a valid GGUF file: it does not start with the magic "GGUF"/],
    ["version 1", () => f.gguf.v1, /GGUF version 1 is no longer supported/],
    ["version 99", () => f.gguf.v99, /unsupported GGUF version 99/],
    ["2^60 tensors declared", () => f.gguf.tensors2e60, /tensor count is .*, too large|truncated/],
    ["a 2^62-byte string", () => f.gguf.string2e62, /truncated GGUF header: metadata entry 1 of 1/],
    ["a 2^40-element array", () => f.gguf.array2e40, /truncated GGUF header: metadata entry 1 of 1/],
    ["a nested array", () => f.gguf.nestedArray, /is an array of invalid GGUF type 9/],
    ["9 dimensions", () => f.gguf.dims9, /has 9 dimensions \(at most 4\)/],
    ["an unknown tensor type", () => f.gguf.unknownType, /has ggml type 1234, unknown to hwledger/],
    ["tensor data not back to back", () => f.gguf.offsetGap, /tensor b\.weight has data offset 4096, expected 32/],
  ])("%s", async (_name, file, message) => {
    await refused(planGguf(file()), message);
  });
});

describe.concurrent("finding 10: impossible values are refused, naming the field or flag", () => {
  it.each([
    ["num_attention_heads 0", { ...LLAMA, num_attention_heads: 0 }, /field "num_attention_heads" must be a whole number ≥ 1, got 0/],
    ["KV heads that do not divide the heads", { ...LLAMA, num_key_value_heads: 5 }, /num_attention_heads \(32\) is not divisible by num_key_value_heads \(5\)/],
    ["head_dim 0", { ...LLAMA, head_dim: 0 }, /layer 0: head_dim .*must be a whole number ≥ 1, got 0/],
    ["a fractional head_dim", { ...LLAMA, head_dim: 64.5 }, /field "head_dim" must be a whole number ≥ 0, got 64\.5/],
    ["hidden_size / heads not whole", { ...LLAMA, hidden_size: 100, num_attention_heads: 3, num_key_value_heads: 1 }, /head_dim \(or hidden_size \/ num_attention_heads\) must be a whole number ≥ 1, got 33\.33/],
    ["0 layers", { ...LLAMA, num_hidden_layers: 0 }, /field "num_hidden_layers" must be a whole number ≥ 1, got 0/],
    ["a negative sliding window", { ...LLAMA, model_type: "mistral", sliding_window: -4096 }, /field "sliding_window" must be a whole number ≥ 0, got -4096/],
    ["a string where a size goes", { ...LLAMA, hidden_size: "4096" }, /field "hidden_size" must be a whole number ≥ 1, got "4096"/],
    ["layer_types of the wrong length", { ...LLAMA, layer_types: ["full_attention"] }, /"layer_types" must list 32 entries/],
  ])("config: %s", async (name, config, message) => {
    await refused(plan(cfg(`impossible-${name.replace(/\W+/g, "-")}`, config)), message);
  });

  it.each([
    ["plan --tp 3 (vLLM needs the heads divisible by TP)", plan(MODEL, "--tp", "3"), /Total number of attention heads \(32\) must be divisible by tensor parallel size \(3\)/],
    ["plan --tp 16 on 8 KV heads splits", plan(MODEL, "--tp", "16", "--json"), null],
    ["fit --context 1e30", ["fit", "--model", MODEL, "--engine", "vllm", "--gpu-memory-gib", "80", "--context", "1e30"], /--context is too large \(the limit is 134,217,728: /],
    ["fit --gpu-memory-gib 1e308", ["fit", "--model", MODEL, "--engine", "vllm", "--gpu-memory-gib", "1e308", "--context", "4096"], /--gpu-memory-gib is too large \(the limit is 65,536: /],
    ["fit --max-num-batched-tokens 0", ["fit", "--model", MODEL, "--engine", "vllm", "--gpu-memory-gib", "80", "--context", "4096", "--max-num-batched-tokens", "0"], /--max-num-batched-tokens must be a whole number ≥ 1, got "0"/],
    ["fit --max-num-seqs 0", ["fit", "--model", MODEL, "--engine", "vllm", "--gpu-memory-gib", "80", "--context", "4096", "--max-num-seqs", "0"], /--max-num-seqs must be a whole number ≥ 1, got "0"/],
    ["fit --gpu-memory-utilization 2", ["fit", "--model", MODEL, "--engine", "vllm", "--gpu-memory-gib", "80", "--gpu-memory-utilization", "2"], /--gpu-memory-utilization is too large \(the limit is 1: /],
    ["fit --vllm-version x", ["fit", "--model", MODEL, "--engine", "vllm", "--gpu-memory-gib", "80", "--vllm-version", "latest"], /--vllm-version must look like 0\.25\.1/],
    ["speed --gen 1e30", ["speed", "--model", MODEL, "--engine", "llama.cpp", "--weights", "Q4_0", "--device", "rtx-4090", "--gen", "1e30"], /--gen is too large/],
    ["dispatch --budget -1", ["dispatch", "--model", MODEL, "--context", "4096", "--tokens", "1000", "--budget", "-1"], /--budget must be zero or more, got "-1"/],
    ["dispatch --tokens 1e30", ["dispatch", "--model", MODEL, "--context", "4096", "--tokens", "1e30"], /--tokens is too large/],
    ["costs --lifespan-years 0", ["costs", "--lifespan-years", "0"], /--lifespan-years must be positive, got "0"/],
    ["costs --utilization 5", ["costs", "--utilization", "5"], /--utilization is too large/],
    ["plan --context Infinity", plan(MODEL).slice(0, -1).concat("Infinity"), /--context must be a number, got "Infinity"/],
    ["plan --context 0x10", plan(MODEL).slice(0, -1).concat("0x10"), /--context must be a number, got "0x10"/],
    ["plan --tp -1", plan(MODEL, "--tp", "-1"), /--tp must be a whole number ≥ 1/],
  ])("%s", async (_name, args, message) => {
    if (message === null) {
      const r = await hwledger(args);
      expect(r.code, r.stderr).toBe(0);
      return;
    }
    await refused(args, message);
  });
});

describe.concurrent("finding 12: addresses and text output", () => {
  it("--host http://… is refused as bad input, not read as a host named http", async () => {
    await refused(["probe", "--host", "http://example.com"], /not an SSH address: http:\/\/example\.com \(only ssh:\/\/user@host\[:port\]\[\/path\] is supported, not http:\/\/\)/);
  });

  it("control and bidi characters from a config are shown escaped in text output, raw in JSON", async () => {
    const name = "evil\u001b[2J\u001b]0;pwned\u0007\u202eKCATTA\u2066name\nsecond line";
    const file = cfg("evil-name", { ...LLAMA, _name_or_path: name });
    const text = await hwledger(plan(file));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toMatch(RAW);
    expect(text.stdout.split("\n")[0]).toBe(
      "evil\\u{001b}[2J\\u{001b}]0;pwned\\u{0007}\\u{202e}KCATTA\\u{2066}name\\u{000a}second line on vllm: bf16 weights, KV f16, context 4096 × 1 seq, tp 1 pp 1",
    );
    const json = await hwledger([...plan(file), "--json"]);
    expect(json.code).toBe(0);
    // JSON escapes what it must and keeps the name otherwise intact for programs.
    expect(json.stdout).not.toMatch(/[\u0000-\u001f](?<!\n)/);
  });

  it("an error naming a hostile input is one escaped line", async () => {
    const stderr = await refused(["plan", "--model", "no\u001b[31mdir/\u202ex\nmore", "--engine", "vllm", "--context", "10"], /is neither a file nor an HF id/);
    expect(stderr).toContain("no\\u{001b}[31mdir/\\u{202e}x\\u{000a}more");
  });
});

describe.concurrent("hostile names, paths and URLs", () => {
  it.each([
    ["a path escaping upwards", () => plan("../../../../../../etc/passwd"), /malformed config\.json|must be a JSON object/],
    ["a very long --model", () => plan("x".repeat(20_000)), /is neither a file nor an HF id/],
    ["an HF id outside the catalog, offline", () => plan("evil/../../model"), /is neither a file nor an HF id|offline mode is on/],
    ["an empty config", () => plan(cfg("empty", "")), /malformed config\.json/],
    ["a JSON array", () => plan(cfg("array", "[1,2,3]")), /config\.json must be a JSON object/],
    ["deeply nested JSON", () => plan(cfg("deep", `{"model_type":"llama","x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`)), /missing required field/],
    ["binary garbage", () => plan(cfg("garbage", "\u0000\u00ff\u0001GGUF\u0000")), /malformed config\.json/],
    ["a NUL inside model_type", () => plan(cfg("nul", { model_type: "lla\u0000ma" })), /unknown model_type "lla\\u\{0000\}ma"|unknown model_type/],
    ["a 20 MiB config", () => plan(cfg("huge", JSON.stringify({ ...LLAMA, pad: "x".repeat(20 * 1024 * 1024) }))), /too large \(the limit is 16,777,216/],
    ["an ftp:// GGUF", () => planGguf("ftp://example.com/model.gguf"), /a GGUF is a local path or an http\(s\) URL/],
    ["a remote GGUF offline", () => planGguf("https://example.com/model.gguf"), /offline mode is on/],
    ["an unknown command", () => ["frobnicate"], /unknown command 'frobnicate'/],
    ["an unknown option", () => plan(MODEL, "--frobnicate"), /unknown option '--frobnicate'/],
    ["an unknown device", () => ["speed", "--model", MODEL, "--engine", "vllm", "--device", "../../etc"], /device/],
  ])("%s", async (_name, args, message) => {
    await refused(args(), message);
  });

  it("a remote GGUF on a closed port is refused with one line", async () => {
    const port = await freePort();
    await refused(planGguf(`http://127.0.0.1:${port}/m.gguf`), /cannot fetch the GGUF header/, { HWLEDGER_OFFLINE: undefined });
  });

  it("a host that refuses connections: exit 2 (issue 12: an unreachable target), one line, recorded as probe_failed", async () => {
    const port = await freePort();
    const key = makeKeyPair(root, "user").keyFile;
    const r = await hwledger(["probe", "--host", `ssh://nobody@127.0.0.1:${port}`], { HWLEDGER_SSH_KEY: key });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/^hwledger: probe of ssh:\/\/nobody@127\.0\.0\.1:\d+ failed: ssh nobody@127\.0\.0\.1:\d+: connection refused$/)]);
    const rows = await hwledger(["ledger", "query", "SELECT payload FROM events WHERE type = 'probe_failed'", "--json"]);
    expect(rows.code, rows.stderr).toBe(0);
    expect(rows.stdout).toContain(`127.0.0.1:${port}`);
  });
});

describe("finding 9: a closed stdout ends the command quietly (exit 0, no error on stderr)", () => {
  /** Runs the CLI with the reading end of its stdout already closed: every write meets EPIPE, as `| head -c100` does. */
  function readerGone(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN_PATH, ...args], { env: { ...process.env, ...env, HWLEDGER_OFFLINE: "1" } as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.destroy();
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    });
  }

  it.each([
    ["devices --json", ["devices", "--json"]],
    ["prices", ["prices"]],
    ["plan --json of a 126-layer model", ["plan", "--model", "meta-llama/Llama-3.1-405B", "--engine", "vllm", "--context", "4096", "--tp", "8", "--pp", "16", "--json"]],
  ])("%s | head -c100", async (_name, args) => {
    const r = await readerGone(args);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(r.code).toBe(0);
  });
});
