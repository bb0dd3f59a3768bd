// Calls into worker threads that run a module of this tree, the same way the tree itself runs: compiled JavaScript
// (.build, what `hwledger` runs after npm install) or TypeScript sources through tsx (HWLEDGER_FROM_SOURCE, tests).
// The module answers with answerCalls; the caller holds a ThreadCalls. One request/answer protocol for every thread.
import { parentPort, Worker } from "node:worker_threads";
import type { Transferable } from "node:worker_threads";

type Envelope<T> = { seq: number; body: T };
type Answer<A> = { seq: number; ok: true; body: A } | { seq: number; ok: false; message: string };

/**
 * Starts a thread on the module `name` (without extension) beside the module whose import.meta.url is `from`.
 * A thread does not inherit the tsx loader its parent registered by API, so a TypeScript module is reached through
 * a small bootstrap that registers tsx first (resolved from here, whatever the working folder).
 */
export function moduleThread(from: string, name: string): Worker {
  const fromSource = from.endsWith(".ts");
  const url = new URL(`./${name}${fromSource ? ".ts" : ".js"}`, from);
  if (!fromSource) return new Worker(url);
  const tsx = import.meta.resolve("tsx/esm/api");
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true });
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

/**
 * `size` threads on one module, started on first call; each call goes to the thread with the fewest calls in
 * flight. A thread that dies fails its calls in flight and is started again on the next call. Threads keep the
 * process alive only while they have calls in flight.
 */
export class ThreadCalls<Req, Ans> {
  private readonly slots: (Slot | undefined)[];
  private seq = 0;
  private readonly waiting = new Map<number, { slot: Slot; resolve: (a: Ans) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly from: string,
    private readonly name: string,
    size = 1,
  ) {
    this.slots = new Array<Slot | undefined>(Math.max(1, size)).fill(undefined);
  }

  private start(n: number): Slot {
    const slot: Slot = { worker: moduleThread(this.from, this.name), inFlight: 0 };
    slot.worker.unref();
    const died = (e: Error) => {
      if (this.slots[n] === slot) this.slots[n] = undefined;
      for (const [seq, w] of this.waiting)
        if (w.slot === slot) {
          this.waiting.delete(seq);
          w.reject(e);
        }
    };
    slot.worker.on("message", (a: Answer<Ans>) => {
      const w = this.waiting.get(a.seq);
      if (!w) return;
      this.waiting.delete(a.seq);
      if (--slot.inFlight === 0) slot.worker.unref();
      if (a.ok) w.resolve(a.body);
      else w.reject(new Error(a.message));
    });
    slot.worker.on("error", died);
    slot.worker.on("exit", (code) => died(new Error(`${this.name} thread exited (${code})`)));
    return (this.slots[n] = slot);
  }

  call(body: Req, transfer: readonly Transferable[] = []): Promise<Ans> {
    let n = 0;
    for (let i = 1; i < this.slots.length; i++) if ((this.slots[i]?.inFlight ?? 0) < (this.slots[n]?.inFlight ?? 0)) n = i;
    const slot = this.slots[n] ?? this.start(n);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { slot, resolve, reject });
      if (slot.inFlight++ === 0) slot.worker.ref();
      slot.worker.postMessage({ seq, body } satisfies Envelope<Req>, transfer as Transferable[]);
    });
  }

  /** Stops the threads (calls in flight fail). */
  async close(): Promise<void> {
    const slots = this.slots.splice(0, this.slots.length, ...this.slots.map(() => undefined));
    await Promise.all(slots.map((s) => s?.worker.terminate()));
  }
}

/** In a thread started by ThreadCalls: answers each call with fn's result (its buffers moved, not copied). */
export function answerCalls<Req, Ans>(fn: (req: Req) => Promise<Ans> | Ans, transferOf: (a: Ans) => Transferable[] = () => []): void {
  const port = parentPort;
  if (!port) throw new Error("answerCalls: not in a worker thread");
  port.on("message", (m: Envelope<Req>) => {
    Promise.resolve()
      .then(() => fn(m.body))
      .then(
        (body) => port.postMessage({ seq: m.seq, ok: true, body } satisfies Answer<Ans>, transferOf(body)),
        (e: unknown) => port.postMessage({ seq: m.seq, ok: false, message: e instanceof Error ? e.message : String(e) } satisfies Answer<Ans>),
      );
  });
}
