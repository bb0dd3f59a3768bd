// The thread on which `hwledger serve` writes its group commits (collector/serve/commit.ts). The server's main
// thread is busy with TLS and HTTP; on a thread of its own, each of a commit's many small file steps (lock,
// listing, staging, fsync, link) runs as soon as it is ready instead of waiting behind that work.
import { appendStaged, LedgerConflict } from "../../lib/ledger/index.js";
import type { StagedPart } from "../../lib/ledger/index.js";
import { answerCalls } from "../../lib/thread.js";

export interface WriteRequest {
  ledger: string;
  parts: StagedPart[];
}

/** What was written, or the conflict that refused the group (any other failure is the call's error). */
export type WriteAnswer = { appended: number; skipped: number } | { conflict: { id: string; differs: string } };

answerCalls<WriteRequest, WriteAnswer>(async (r) => {
  try {
    const { appended, skipped } = await appendStaged(r.ledger, r.parts);
    return { appended, skipped };
  } catch (e) {
    if (e instanceof LedgerConflict) return { conflict: { id: e.id, differs: e.differs } };
    throw e;
  }
});
