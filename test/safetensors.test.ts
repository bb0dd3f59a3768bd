// Exact weights from safetensors headers, parsed by @huggingface/hub (not by us): a local folder through the CLI,
// a sharded checkpoint, and the online path against a real HTTP server on 127.0.0.1 that answers like the hub.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelFromHfConfig } from "../lib/calc/index.js";
import { readCheckpoint } from "../loaders/safetensors.js";
import { runCli, runCliJson } from "./helpers/cli.js";
import { writeSafetensors } from "./helpers/safetensors-writer.js";

const CONFIG = { model_type: "llama", hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 128, torch_dtype: "bfloat16", max_position_embeddings: 4096 };
const t = (name: string, shape: number[], dtype = "BF16") => ({ name, shape, dtype });
// Block 0 in bf16, block 1 with an 8-bit MLP: the checkpoint, not the config, says what is stored.
const BLOCK0 = [t("model.layers.0.self_attn.q_proj.weight", [64, 64]), t("model.layers.0.mlp.up_proj.weight", [128, 64])];
const BLOCK1 = [t("model.layers.1.self_attn.q_proj.weight", [64, 64]), t("model.layers.1.mlp.up_proj.weight", [128, 64], "I8")];
const OTHER = [t("model.embed_tokens.weight", [128, 64]), t("model.norm.weight", [64]), t("lm_head.weight", [128, 64])];
const bytes = { block0: 64 * 64 * 2 + 128 * 64 * 2, block1: 64 * 64 * 2 + 128 * 64, other: 128 * 64 * 2 * 2 + 64 * 2 };

function folder(sharded: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "hwl-st-"));
  writeFileSync(join(dir, "config.json"), JSON.stringify(CONFIG));
  if (!sharded) writeSafetensors(join(dir, "model.safetensors"), [...OTHER, ...BLOCK0, ...BLOCK1]);
  else {
    const a = "model-00001-of-00002.safetensors";
    const b = "model-00002-of-00002.safetensors";
    writeSafetensors(join(dir, a), [...OTHER, ...BLOCK0]);
    writeSafetensors(join(dir, b), BLOCK1);
    const weight_map = Object.fromEntries([...[...OTHER, ...BLOCK0].map((x) => [x.name, a]), ...BLOCK1.map((x) => [x.name, b])]);
    writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: bytes.block0 + bytes.block1 + bytes.other }, weight_map }));
  }
  return dir;
}

describe("checkpoint weights from safetensors headers", () => {
  for (const sharded of [false, true]) {
    it(`${sharded ? "sharded" : "single-file"} local checkpoint: plan --checkpoint weights are the headers' bytes, per block`, () => {
      const dir = folder(sharded);
      const p = runCliJson(["plan", "--model", dir, "--checkpoint", "--engine", "transformers", "--context", "1024"]);
      expect(p.memory.weightsBytes).toBe(bytes.block0 + bytes.block1 + bytes.other);
      expect(p.layers.map((l: any) => l.weightBytes)).toEqual([bytes.block0, bytes.block1]);
      expect(p.basis.join(" ")).toMatch(/safetensors headers/);
      // Without --checkpoint the config alone says bf16 everywhere: block 1 would be 8 KiB larger.
      const est = runCliJson(["plan", "--model", dir, "--engine", "transformers", "--context", "1024"]);
      expect(est.layers[1].weightBytes).toBeGreaterThan(bytes.block1);
    });
  }

  it("a folder with no safetensors file is exit 2 with one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "hwl-st-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify(CONFIG));
    const r = runCli(["plan", "--model", dir, "--checkpoint", "--engine", "vllm", "--context", "1024"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot read safetensors headers/);
  });

  it("an HF id offline is a clear error, not a hang", () => {
    const r = runCli(["plan", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--checkpoint", "--engine", "vllm", "--context", "1024"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs the network/);
  });
});

describe("online: range requests to a hub", () => {
  const dir = folder(false);
  const server = createServer((req, res) => {
    // The hub's /<repo>/resolve/<rev>/<file> and /raw/ routes, with HEAD and Range like huggingface.co.
    const m = /^\/acme\/tiny\/(?:resolve|raw)\/main\/(.+)$/.exec(req.url ?? "");
    let data: Buffer;
    try {
      data = readFileSync(join(dir, m ? m[1] : "missing"));
    } catch {
      res.writeHead(404).end();
      return;
    }
    const r = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? "");
    const start = r ? Number(r[1]) : 0;
    const end = r && r[2] ? Math.min(Number(r[2]), data.length - 1) : data.length - 1;
    res.writeHead(r ? 206 : 200, { etag: `"${data.length}"`, "accept-ranges": "bytes", "content-length": String(end - start + 1), ...(r ? { "content-range": `bytes ${start}-${end}/${data.length}` } : {}) });
    res.end(req.method === "HEAD" ? undefined : data.subarray(start, end + 1));
  });
  let hubUrl = "";
  beforeAll(async () => {
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    hubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it("reads only the headers over HTTP and groups bytes by block", async () => {
    const c = await readCheckpoint("acme/tiny", modelFromHfConfig(CONFIG, "acme/tiny"), { hubUrl });
    expect(c.perLayerBytes).toEqual([bytes.block0, bytes.block1]);
    expect(c.otherBytes).toBe(bytes.other);
    expect(c.paramsByDtype).toMatchObject({ BF16: 64 * 64 * 2 + 128 * 64 + 128 * 64 * 2 + 64, I8: 128 * 64 });
  });
});
