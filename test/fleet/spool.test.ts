// The agent's spool (collector/agent/spool.ts) on a real folder: what take() hands out is exactly the unacknowledged
// lines, in order, across files and partial acknowledgements, and the file text goes out as it was written.
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SPOOL_CHUNK, Spool } from "../../collector/agent/spool.js";
import { scratchDir } from "../helpers/hermetic.js";

const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ n: from + i }));
const numbers = (body: Buffer) => body.toString().split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { n: number }).n);

describe("agent spool", () => {
  it("takes across files and partial acknowledgements, in order, each event once", async () => {
    const spool = await new Spool(join(scratchDir(), "spool")).open();
    await spool.add(lines(0, SPOOL_CHUNK + 500)); // two files: 2000 + 500
    await spool.add(lines(SPOOL_CHUNK + 500, 10));
    expect(await spool.pending()).toBe(SPOOL_CHUNK + 510);

    const a = await spool.take(1500);
    expect(a.count).toBe(1500);
    expect(numbers(a.body)).toEqual([...Array(1500).keys()]);
    expect(a.body.at(-1)).toBe(0x0a);
    await spool.ack(a);
    expect(await spool.pending()).toBe(SPOOL_CHUNK + 510 - 1500);

    // The rest of file 1 (from its .ack count) and all of file 2.
    const b = await spool.take(1000);
    expect(numbers(b.body)).toEqual([...Array(1000).keys()].map((i) => 1500 + i));
    expect(b.files.map((f) => [f.from, f.to, f.whole])).toEqual([[1500, 2000, true], [0, 500, true]]);
    await spool.ack(b);
    const c = await spool.take(SPOOL_CHUNK);
    expect(numbers(c.body)).toEqual([...Array(10).keys()].map((i) => SPOOL_CHUNK + 500 + i));
    await spool.ack(c);
    expect(await spool.pending()).toBe(0);
    expect((await spool.take(SPOOL_CHUNK)).count).toBe(0);
    expect(readdirSync(spool.dir).filter((n) => n.endsWith(".ndjson") || n.endsWith(".ack"))).toEqual([]);
  });

  it("a file whose last line lacks its newline is sent whole, with the newline added", async () => {
    const spool = await new Spool(join(scratchDir(), "spool")).open();
    writeFileSync(join(spool.dir, "01KAAAAAAAAAAAAAAAAAAAAAAA.ndjson"), lines(0, 3).join("\n"));
    const t = await spool.take(10);
    expect(t.count).toBe(3);
    expect(t.body.toString()).toBe(lines(0, 3).join("\n") + "\n");
    const part = await spool.take(2);
    expect(part.body.toString()).toBe(lines(0, 2).join("\n") + "\n");
    await spool.ack(part);
    expect((await spool.take(10)).body.toString()).toBe(lines(2, 1)[0] + "\n");
  });
});
