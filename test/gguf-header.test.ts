// The GGUF header reader (issue #12 finding 4): a file cut anywhere is refused as truncated, never planned from the
// bytes that happen to be there; an intact file reads back exactly what the writer put in.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../lib/calc/index.js";
import { resolveGguf } from "../loaders/gguf.js";
import { GgufLongArray, readGgufHeader } from "../loaders/gguf-header.js";
import { tensorBytes, tinyModel, writeGguf } from "./helpers/gguf-writer.js";

const dir = mkdtempSync(join(tmpdir(), "hwl-gguf-header-"));
const m = tinyModel({ arch: "llama", nLayer: 1, nEmbd: 32, nHead: 2, nHeadKv: 1 });
const file = join(dir, "tiny.gguf");
writeGguf(file, m.metadata, m.tensors);
const bytes = readFileSync(file);
const dataBytes = m.tensors.reduce((a, t) => a + Math.ceil(tensorBytes(t) / 32) * 32, 0);
const dataStart = bytes.length - dataBytes;

const fromBuffer = (b: Buffer) => readGgufHeader({ label: "cut.gguf", size: b.length, read: async (pos, len) => b.subarray(pos, pos + len) });

describe("GGUF header reader", () => {
  it("reads an intact file: every tensor with its shape, type and bytes; the vocabulary counted, not kept", async () => {
    const h = await fromBuffer(bytes);
    expect(h.version).toBe(3);
    expect(h.dataOffset).toBe(dataStart);
    expect(h.tensors.map((t) => [t.name, t.shape, t.bytes])).toEqual(m.tensors.map((t) => [t.name, t.shape, tensorBytes(t)]));
    expect(h.metadata["llama.block_count"]).toBe(1);
    expect(h.metadata["tokenizer.ggml.tokens"]).toBeInstanceOf(Array); // 265 tokens: small enough to keep
  });

  it("refuses the file cut at every byte of its header, and at sampled bytes of its data", async () => {
    const cuts = [...Array.from({ length: dataStart + 1 }, (_, i) => i), ...Array.from({ length: 64 }, (_, i) => dataStart + 1 + Math.floor(((dataBytes - 2) * i) / 63))];
    for (const cut of cuts) {
      const err = await fromBuffer(bytes.subarray(0, cut)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, `cut at ${cut} of ${bytes.length}`).toBeInstanceOf(InputError);
      expect((err as Error).message, `cut at ${cut}`).toMatch(/^cut\.gguf: truncated GGUF/);
    }
  });

  it("the issue's cases: cut at 215 bytes, and cut at 90% of the header, are refused through the loader", async () => {
    for (const cut of [215, Math.floor(dataStart * 0.9)]) {
      const f = join(dir, `cut-${cut}.gguf`);
      writeFileSync(f, bytes.subarray(0, cut));
      await expect(resolveGguf(f)).rejects.toThrow(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: truncated GGUF header: .* needs byte [\\d,]+ but the file ends at byte ${cut.toLocaleString("en-US")}$`));
    }
  });

  it("keeps long arrays as a count (a 262k vocabulary costs no memory)", async () => {
    const big = tinyModel({ arch: "llama", nLayer: 1, nEmbd: 32, nHead: 2, nHeadKv: 1, nVocab: 5000 });
    const f = join(dir, "big-vocab.gguf");
    writeGguf(f, big.metadata, big.tensors);
    const b = readFileSync(f);
    const h = await fromBuffer(b);
    expect(h.metadata["tokenizer.ggml.tokens"]).toEqual(new GgufLongArray(8, 5000));
    expect((await resolveGguf(f)).model.vocabSize).toBe(5000);
  });
});
