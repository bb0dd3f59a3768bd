// Strict parsing of CLI numbers, without pulling in the planner (collect must start small).
import { InputError } from "../lib/calc/types.js";

/** Parses a CLI number strictly: "12abc" and "" are errors, not 12 and 0. */
export function strictNumber(v: number | string, flag: string): number {
  if (typeof v === "number") return v;
  if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v.trim())) throw new InputError(`${flag} must be a number, got "${v}"`);
  return Number(v);
}
