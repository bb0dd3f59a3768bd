// lib/thread.ts: calls into real worker threads running a TypeScript module of this tree (through the tsx bootstrap,
// as `hwledger serve` does when it runs from source): answers, errors, a thread that dies, moved buffers, a pool.
import { describe, expect, it } from "vitest";
import { ThreadCalls } from "../lib/thread.js";
import type { EchoAnswer, EchoRequest } from "./helpers/echo-thread.js";

// moduleThread finds a module beside the one it is given: any .ts file name in test/helpers/ will do.
const helper = new URL("./helpers/echo-thread.ts", import.meta.url).href;

describe("ThreadCalls", () => {
  it("answers; a thrown error fails only that call; a thread that exits fails its call and the next call starts a new one", async () => {
    const t = new ThreadCalls<EchoRequest, EchoAnswer>(helper, "echo-thread");
    try {
      const first = await t.call({ op: "echo" });
      await expect(t.call({ op: "throw" })).rejects.toThrow("refused on purpose");
      expect((await t.call({ op: "echo" })).threadId).toBe(first.threadId);
      await expect(t.call({ op: "exit" })).rejects.toThrow("echo-thread thread exited (3)");
      expect((await t.call({ op: "echo" })).threadId).not.toBe(first.threadId);
    } finally {
      await t.close();
    }
  });

  it("moves a buffer to the thread (the caller's copy is detached) and spreads calls over the pool", async () => {
    const t = new ThreadCalls<EchoRequest, EchoAnswer>(helper, "echo-thread", 2);
    try {
      const bytes = new Uint8Array([1, 2, 3]);
      const a = await t.call({ op: "echo", bytes }, [bytes.buffer]);
      expect([a.bytes, bytes.byteLength]).toEqual([[1, 2, 3], 0]);
      const both = await Promise.all([t.call({ op: "echo", waitMs: 200 }), t.call({ op: "echo", waitMs: 200 })]);
      expect(new Set(both.map((x) => x.threadId)).size).toBe(2);
    } finally {
      await t.close();
    }
  });
});
