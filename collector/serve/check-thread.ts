// The threads on which `hwledger serve` checks and stages request batches (collector/serve/ingest.ts checkBatch),
// so that parsing and validating never hold up the main thread's TLS and HTTP work nor the writer thread.
import { answerCalls } from "../../lib/thread.js";
import type { CheckedBatch } from "./ingest.js";
import { checkBatch } from "./ingest.js";

export interface CheckRequest {
  host: string;
  body: Uint8Array;
  maxEvents: number;
}

answerCalls<CheckRequest, CheckedBatch>(
  (r) => checkBatch(r.body, r.host, r.maxEvents),
  (a) => (a.ok ? a.parts.map((p) => p.lines.buffer as ArrayBuffer) : []),
);
