// Small helpers shared by the ledger tests.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "../../lib/fleet/events.js";
import { makeEvent } from "../../lib/fleet/events.js";

export function tempLedger(): string {
  return join(mkdtempSync(join(tmpdir(), "hwledger-ledger-")), "ledger");
}

/** n telemetry events for a host, with distinct payloads (so content comparisons mean something). */
export function telemetry(n: number, host = "box1", ts?: string): Event[] {
  return Array.from({ length: n }, (_, i) =>
    makeEvent("telemetry_sample", { memoryUsedBytes: i * 1024, powerW: 100 + i / 10, utilizationPct: i % 100 }, { host, device_id: `gpu${i % 2}`, ts }),
  );
}
