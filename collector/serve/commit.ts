// Group commit for `hwledger serve`: checked batches from many clients wait in one bounded queue and are written
// together by one append (lib/ledger/writer.ts appendStaged: idempotent by id, one fsynced segment per partition),
// so the per-write costs (lock, listing, fsyncs) are paid once per group instead of once per client. A batch is
// acknowledged only after the group holding it is on disk. When the queue is full, submit refuses (the server
// answers 503) instead of growing memory. The appends run on the writer thread (collector/serve/writer-thread.ts).
import { LedgerConflict } from "../../lib/ledger/index.js";
import { ThreadCalls } from "../../lib/thread.js";
import type { StagedBatch } from "./ingest.js";
import type { WriteAnswer, WriteRequest } from "./writer-thread.js";

interface Pending {
  batch: StagedBatch;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitOptions {
  /** Events that may wait (queued + being written) before submit refuses. */
  maxQueued: number;
  /** Most events written by one appendEvents call. */
  maxGroup: number;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private queued = 0;
  private writing = 0;
  private running: Promise<void> | undefined;
  /** Events per second of the last group written. */
  private rate = 0;
  readonly totals = { accepted: 0, duplicates: 0, commits: 0, failures: 0 };
  private readonly writer = new ThreadCalls<WriteRequest, WriteAnswer>(import.meta.url, "writer-thread");

  constructor(
    private readonly ledger: string,
    private readonly opts: GroupCommitOptions,
  ) {}

  /** Seconds a refused client should wait: the queue at the last group's rate, 1 to 30 (2 before any group). */
  retryAfterS(): number {
    if (this.rate === 0) return 2;
    return Math.min(30, Math.max(1, Math.ceil(this.depth / this.rate)));
  }

  /** Events waiting or being written. */
  get depth(): number {
    return this.queued + this.writing;
  }

  /** True when a batch of n events would not fit now (an empty queue takes any batch, however large). */
  full(n = 0): boolean {
    return this.depth > 0 && this.depth + n > this.opts.maxQueued;
  }

  /** Queues a batch; resolves once it is durably in the ledger, null when the queue is full. */
  submit(batch: StagedBatch): Promise<void> | null {
    if (this.full(batch.count)) return null;
    const p = new Promise<void>((resolve, reject) => this.queue.push({ batch, resolve, reject }));
    this.queued += batch.count;
    this.running ??= this.drain().finally(() => (this.running = undefined));
    return p;
  }

  /** Writes everything queued so far, then stops the writer thread (shutdown). */
  async close(): Promise<void> {
    while (this.running) await this.running;
    await this.writer.close();
  }

  private take(): Pending[] {
    const group: Pending[] = [];
    let n = 0;
    while (this.queue.length > 0 && (group.length === 0 || n + this.queue[0].batch.count <= this.opts.maxGroup)) {
      const p = this.queue.shift()!;
      group.push(p);
      n += p.batch.count;
    }
    this.queued -= n;
    this.writing = n;
    return group;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.take();
      try {
        await this.write(group);
      } finally {
        this.writing = 0;
      }
    }
  }

  private async append(batches: StagedBatch[]): Promise<void> {
    const t0 = performance.now();
    const r = await this.writer.call({ ledger: this.ledger, parts: batches.flatMap((b) => b.parts) });
    if ("conflict" in r) throw new LedgerConflict(r.conflict.id, r.conflict.differs);
    const events = batches.reduce((n, b) => n + b.count, 0);
    this.rate = events / Math.max(0.001, (performance.now() - t0) / 1000);
    this.totals.accepted += r.appended;
    this.totals.duplicates += r.skipped;
    this.totals.commits++;
  }

  private async write(group: Pending[]): Promise<void> {
    try {
      await this.append(group.map((p) => p.batch));
      for (const p of group) p.resolve();
    } catch (e) {
      if (!(e instanceof LedgerConflict) || group.length === 1) {
        if (!(e instanceof LedgerConflict)) this.totals.failures++;
        for (const p of group) p.reject(e);
        return;
      }
      // One client's event conflicts with a stored one: write the batches one by one so only that batch fails.
      for (const p of group) await this.append([p.batch]).then(() => p.resolve(), p.reject);
    }
  }
}
