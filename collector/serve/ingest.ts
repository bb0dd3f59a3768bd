// What a client sends to `hwledger serve`: a batch of events as NDJSON (one event per line), a JSON array, or
// {"events": [...]}. Every event is checked by the ledger's own schema (lib/fleet/events.ts parseEvent); its host is
// the client certificate's name, whatever the body says, so no agent can write another host's events.
import type { Event } from "../../lib/fleet/events.js";
import { parseEvent } from "../../lib/fleet/events.js";
import { InputError } from "../../lib/calc/types.js";
import { stageEvents } from "../../lib/ledger/index.js";
import type { StagedPart } from "../../lib/ledger/index.js";

export interface Batch {
  events: Event[];
  /** Events whose body named another host: stored under the certificate's host instead. */
  rewritten: number;
}

function items(body: string): unknown[] {
  const text = body.trim();
  if (text === "") throw new InputError("empty batch");
  if (text.startsWith("[")) {
    const v = jsonOf(text, 1);
    if (!Array.isArray(v)) throw new InputError("a JSON batch must be an array of events");
    return v;
  }
  const lines = text.split("\n");
  if (lines.length === 1) {
    const v = jsonOf(text, 1) as Record<string, unknown> | null;
    if (v && typeof v === "object" && Array.isArray(v.events) && !("id" in v)) return v.events;
    return [v];
  }
  const out: unknown[] = [];
  for (let i = 0; i < lines.length; i++) if (lines[i].trim() !== "") out.push(jsonOf(lines[i], i + 1));
  return out;
}

function jsonOf(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(`line ${line}: not JSON`);
  }
}

/** Parses and validates a batch for the client named `host`; the first bad event refuses the whole batch. */
export function parseBatch(body: string, host: string, maxEvents: number): Batch {
  const raw = items(body);
  if (raw.length === 0) throw new InputError("empty batch");
  if (raw.length > maxEvents) throw new InputError(`batch of ${raw.length} events: at most ${maxEvents} per request`);
  let rewritten = 0;
  const events = raw.map((x, i) => {
    if (!x || typeof x !== "object" || Array.isArray(x)) throw new InputError(`event ${i + 1}: not an object`);
    const claimed = (x as { host?: unknown }).host;
    if (claimed !== host) rewritten++;
    try {
      (x as { host?: unknown }).host = host; // x is this request's own parsed JSON: no copy needed
      return parseEvent(x);
    } catch (e) {
      throw new InputError(`event ${i + 1}: ${(e as Error).message}`);
    }
  });
  return { events, rewritten };
}

/** A batch's valid events, staged for the writer (lib/ledger/staged.ts). */
export interface StagedBatch {
  count: number;
  parts: StagedPart[];
}

/** A checked batch, staged, or why it was refused (and how many lines it had). */
export type CheckedBatch = ({ ok: true; rewritten: number } & StagedBatch) | { ok: false; error: string; lines: number };

/** parseBatch, then stageEvents: everything a request needs before it can be queued for the writer. */
export function checkBatch(body: Uint8Array, host: string, maxEvents: number): CheckedBatch {
  const text = new TextDecoder().decode(body);
  try {
    const { events, rewritten } = parseBatch(text, host, maxEvents);
    return { ok: true, count: events.length, rewritten, parts: stageEvents(events) };
  } catch (e) {
    return { ok: false, error: (e as Error).message.split("\n")[0], lines: Math.max(1, text.split("\n").filter((l) => l.trim()).length) };
  }
}
