// The ledger API other parts import: append, query, read validated events, compact, ship, typed payload fields.
export { appendEvents, appendStaged, COLUMNS, LedgerConflict } from "./writer.js";
export { stageEvents } from "./staged.js";
export type { StagedPart } from "./staged.js";
export type { AppendResult } from "./writer.js";
export { queryLedger } from "./query.js";
export type { QueryOptions } from "./query.js";
export { readEvents, withLedger } from "./reader.js";
export { validSegments, liveSegments } from "./segments.js";
export { defaultLedgerDir, ledgerLabel, scanLedger, SEGMENT_GLOB, withLedgerLabel } from "./layout.js";
export { quarantine } from "./quarantine.js";
export { compactLedger } from "./compact.js";
export type { CompactOptions, CompactResult } from "./compact.js";
export { shipLedger } from "./ship.js";
export type { RemoteFs, ShipResult, ShipTarget } from "./ship.js";
export { field, typeIs, eventsOf, isoTs, payloadOf } from "./fields.js";
export type { FieldName, PayloadField, SqlType, SubFieldName } from "./fields.js";
