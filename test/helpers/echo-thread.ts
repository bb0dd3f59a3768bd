// A thread module for test/thread.test.ts: answers calls through lib/thread.ts answerCalls.
import { threadId } from "node:worker_threads";
import { answerCalls } from "../../lib/thread.js";

export type EchoRequest = { op: "echo"; bytes?: Uint8Array; waitMs?: number } | { op: "throw" } | { op: "exit" };
export interface EchoAnswer {
  threadId: number;
  bytes?: number[];
}

answerCalls<EchoRequest, EchoAnswer>(async (r) => {
  if (r.op === "throw") throw new Error("refused on purpose");
  if (r.op === "exit") process.exit(3); // in a worker: ends this thread only
  if (r.waitMs) await new Promise((resolve) => setTimeout(resolve, r.waitMs));
  return { threadId, bytes: r.bytes ? [...r.bytes] : undefined };
});
