// The ledger API other parts import: append, query, read validated events, compact, ship.
export { appendEvents, COLUMNS } from "./writer.js";
export type { AppendResult } from "./writer.js";
export { queryLedger, readEvents, withLedger, validSegments } from "./reader.js";
export { defaultLedgerDir, scanLedger, SEGMENT_GLOB } from "./layout.js";
export { quarantine } from "./quarantine.js";
export { compactLedger } from "./compact.js";
export type { CompactOptions, CompactResult } from "./compact.js";
export { shipLedger } from "./ship.js";
export type { ShipResult } from "./ship.js";
