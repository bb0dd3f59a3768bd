// Hostile and broken inputs for test/hostile.test.ts, written into a temp folder: configs with impossible or absurd
// fields, GGUF headers cut short or lying about their sizes, FIFOs and devices where files are expected.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tinyModel, u32, writeGguf } from "./gguf-writer.js";

/** A Llama-3.1-8B-like config; tests override single fields. */
export const LLAMA = {
  model_type: "llama",
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 128256,
  max_position_embeddings: 131072,
};

export function writeConfig(dir: string, name: string, config: unknown): string {
  const f = join(dir, `${name}.json`);
  writeFileSync(f, typeof config === "string" ? config : JSON.stringify(config));
  return f;
}

/** GGUF bytes by hand, for headers the writer would never produce. */
export class RawGguf {
  parts: Buffer[] = [];
  u32(v: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint | number) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.parts.push(b);
    return this;
  }
  str(s: string) {
    const b = Buffer.from(s);
    return this.u64(b.length).raw(b);
  }
  raw(b: Buffer) {
    this.parts.push(b);
    return this;
  }
  header(version: number, tensors: bigint | number, kvs: bigint | number) {
    return this.raw(Buffer.from("GGUF")).u32(version).u64(tensors).u64(kvs);
  }
  kvU32(key: string, v: number) {
    return this.str(key).u32(4).u32(v);
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface HostileFiles {
  dir: string;
  gguf: { ok: string; cut215: string; cutHeader: string; cutData: string; blocks1e8: string; badMagic: string; v1: string; v99: string; tensors2e60: string; string2e62: string; array2e40: string; nestedArray: string; dims9: string; unknownType: string; offsetGap: string; empty: string };
  fifo: string;
}

export function hostileFiles(dir: string): HostileFiles {
  mkdirSync(dir, { recursive: true });
  const g = (n: string) => join(dir, `${n}.gguf`);
  const m = tinyModel({ arch: "llama", nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2 });
  writeGguf(g("ok"), m.metadata, m.tensors);
  const ok = readFileSync(g("ok"));
  // Where the tensor infos end: the writer pads the header to 32 bytes before the data.
  const dataStart = ok.length - m.tensors.reduce((a, t) => a + Math.ceil((t.shape.reduce((x, y) => x * y, 1) * 4) / 32) * 32, 0);
  writeFileSync(g("cut215"), ok.subarray(0, 215));
  writeFileSync(g("cutHeader"), ok.subarray(0, Math.floor(dataStart * 0.9)));
  writeFileSync(g("cutData"), ok.subarray(0, dataStart + 100));
  writeGguf(g("blocks1e8"), { ...m.metadata, "llama.block_count": u32(100_000_000) }, m.tensors);
  writeFileSync(g("badMagic"), Buffer.concat([Buffer.from("GGML"), ok.subarray(4)]));
  writeFileSync(g("v1"), new RawGguf().header(1, 0, 0).bytes());
  writeFileSync(g("v99"), new RawGguf().header(99, 0, 0).bytes());
  writeFileSync(g("tensors2e60"), new RawGguf().header(3, 2n ** 60n, 0).bytes());
  writeFileSync(g("string2e62"), new RawGguf().header(3, 0, 1).u64(2n ** 62n).raw(Buffer.from("general.architecture")).bytes());
  writeFileSync(g("array2e40"), new RawGguf().header(3, 0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(2n ** 40n).str("a").bytes());
  writeFileSync(g("nestedArray"), new RawGguf().header(3, 0, 1).str("x").u32(9).u32(9).u64(1).bytes());
  const arch = new RawGguf().header(3, 1, 2).str("general.architecture").u32(8).str("llama").kvU32("llama.block_count", 1);
  writeFileSync(g("dims9"), Buffer.concat([arch.bytes(), new RawGguf().str("blk.0.attn_q.weight").u32(9).bytes()]));
  writeFileSync(g("unknownType"), Buffer.concat([arch.bytes(), new RawGguf().str("token_embd.weight").u32(1).u64(32).u32(1234).u64(0).bytes()]));
  // Two tensors whose data offsets leave a hole (gguf.cpp requires them back to back).
  const two = new RawGguf().header(3, 2, 1).str("general.architecture").u32(8).str("llama");
  two.str("a.weight").u32(1).u64(8).u32(0).u64(0).str("b.weight").u32(1).u64(8).u32(0).u64(4096);
  const twoBytes = two.bytes();
  writeFileSync(g("offsetGap"), Buffer.concat([twoBytes, Buffer.alloc(8192 + (32 - (twoBytes.length % 32)))]));
  writeFileSync(g("empty"), Buffer.alloc(0));
  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  return {
    dir,
    gguf: {
      ok: g("ok"), cut215: g("cut215"), cutHeader: g("cutHeader"), cutData: g("cutData"), blocks1e8: g("blocks1e8"), badMagic: g("badMagic"), v1: g("v1"), v99: g("v99"),
      tensors2e60: g("tensors2e60"), string2e62: g("string2e62"), array2e40: g("array2e40"), nestedArray: g("nestedArray"), dims9: g("dims9"), unknownType: g("unknownType"),
      offsetGap: g("offsetGap"), empty: g("empty"),
    },
    fifo,
  };
}
