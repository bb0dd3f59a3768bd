// Events made ready for the writer: grouped by partition, each group as its ids and its NDJSON lines (the valid
// events' JSON, one per line, in the same order). Plain strings and bytes, so a batch can be checked and staged on
// one thread and written on another (`hwledger serve`) without copying it event by event; the staged bytes are the
// very file DuckDB reads (lib/ledger/writer.ts).
import type { Event } from "../fleet/events.js";
import { partitionDir } from "./layout.js";

export interface StagedPart {
  /** Partition folder, dt=…/host=…. */
  part: string;
  /** Event ids joined by "\n". */
  ids: string;
  /** The events' JSON lines joined by "\n", as UTF-8. */
  lines: Uint8Array;
  /** Bytes of the longest line (at most). */
  longest: number;
}

/** Stages valid events (from parseEvent), one part per partition, in the events' order. */
export function stageEvents(events: readonly Event[]): StagedPart[] {
  const parts = new Map<string, { ids: string[]; lines: string[]; longest: number }>();
  for (const e of events) {
    const key = partitionDir(e.ts.slice(0, 10), e.host);
    let p = parts.get(key);
    if (!p) parts.set(key, (p = { ids: [], lines: [], longest: 0 }));
    const line = JSON.stringify(e);
    p.ids.push(e.id);
    p.lines.push(line);
    p.longest = Math.max(p.longest, line.length * 3); // UTF-16 units to at most 3 UTF-8 bytes
  }
  // TextEncoder gives each part a buffer of its own (Buffer.from may share a pool): it can be moved to another thread.
  const utf8 = new TextEncoder();
  return [...parts].map(([part, p]) => ({ part, ids: p.ids.join("\n"), lines: utf8.encode(p.lines.join("\n")), longest: p.longest }));
}

/** The lines of a staged part (decoded when an event must be looked at: a duplicate, a resend). */
export const stagedLines = (p: StagedPart): string[] => Buffer.from(p.lines.buffer, p.lines.byteOffset, p.lines.byteLength).toString("utf8").split("\n");

/** The event a staged line holds (it was rendered from a valid Event). */
export const stagedEvent = (line: string): Event => JSON.parse(line) as Event;
