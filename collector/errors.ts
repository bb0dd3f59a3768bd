// The CLI contract: exit 0 on success, 2 on bad input or a host that does not answer (one line on stderr), 1 on
// runtime failure.
import { InputError } from "../lib/calc/types.js";
import type { HostFailureCode } from "../lib/fleet/events.js";

export { InputError };

/** A failure while doing the work (host down, engine crashed), as opposed to bad input. */
export class RuntimeFailure extends Error {
  override name = "RuntimeFailure";
}

/**
 * A host that could not be reached or would not let us in (refused, timeout, unknown host key, key not accepted).
 * Exit 2 like bad input: the address, key or known_hosts given does not work, and the answer comes within the
 * connect timeout (issue 12: every hostile input ends in exit 2 within 10 s).
 */
export class HostUnreachable extends RuntimeFailure {
  override name = "HostUnreachable";
  constructor(
    message: string,
    readonly code: HostFailureCode,
  ) {
    super(message);
  }
}

export function exitCodeFor(err: unknown): number {
  return err instanceof InputError || err instanceof HostUnreachable ? 2 : 1;
}

export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0];
}
