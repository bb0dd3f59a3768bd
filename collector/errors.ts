// The CLI contract: exit 0 on success, 2 on bad input (one line on stderr), 1 on runtime failure.
import { InputError } from "../lib/calc/types.js";

export { InputError };

/** A failure while doing the work (host down, engine crashed), as opposed to bad input. */
export class RuntimeFailure extends Error {
  override name = "RuntimeFailure";
}

export function exitCodeFor(err: unknown): number {
  return err instanceof InputError ? 2 : 1;
}

export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0];
}
