// The CLI contract from ARCHITECTURE.md: exit 2 with one line on bad input, --json prints only JSON.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "hwl-cli-"));
const good = join(dir, "config.json");
writeFileSync(
  good,
  JSON.stringify({ model_type: "llama", hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072 }),
);
const malformed = join(dir, "bad.json");
writeFileSync(malformed, '{"model_type": "llama", "hidden_size": 4096,');
const missing = join(dir, "missing.json");
writeFileSync(missing, JSON.stringify({ model_type: "llama", hidden_size: 4096 }));
const unknown = join(dir, "unknown.json");
writeFileSync(unknown, JSON.stringify({ model_type: "frobnicator", d: 1 }));

describe("CLI contract", () => {
  it("plan --json prints one JSON document with integer bytes", () => {
    const r = runCli(["plan", "--model", good, "--engine", "vllm", "--context", "8192", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ["weightsBytes", "kvCacheBytes", "activationBytes", "overheadBytes", "totalBytes"]) expect(Number.isInteger(j.memory[k])).toBe(true);
    expect(j.layers).toHaveLength(32);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ["malformed config.json", ["--model", malformed], /malformed config\.json/],
    ["missing fields", ["--model", missing], /missing required field\(s\): .*num_hidden_layers/],
    ["unknown architecture", ["--model", unknown], /unknown model_type "frobnicator"/],
  ];
  for (const [name, args, re] of bad) {
    it(`${name}: exit 2, one clear line`, () => {
      const r = runCli(["plan", ...args, "--engine", "vllm", "--context", "4096"]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(re);
      expect(r.stdout).toBe("");
    });
  }

  for (const ctx of ["0", "-5", "1.5", "abc"]) {
    it(`--context ${ctx} is rejected with exit 2`, () => {
      const r = runCli(["plan", "--model", good, "--engine", "vllm", "--context", ctx]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--context/);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    });
  }

  it("unknown engine and dtype are exit 2", () => {
    expect(runCli(["plan", "--model", good, "--engine", "tgi", "--context", "10"]).stderr).toMatch(/unknown engine "tgi"/);
    const r = runCli(["plan", "--model", good, "--engine", "vllm", "--context", "10", "--kv-dtype", "f13"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown KV cache dtype "f13"/);
  });
});
