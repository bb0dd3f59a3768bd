// Cost model: owned hardware (depreciation + power) and cloud (on-demand or spot), per hour, per job,
// per million tokens. Pure arithmetic; every figure carries the basis it was computed from.

export interface OwnedHardware {
  purchasePrice: number;
  lifespanYears: number;
  /** Average draw while busy, watts. */
  powerWatts: number;
  /** Price per kWh. */
  electricityPerKwh: number;
  /** Fraction of wall-clock hours the device does paid work (depreciation is spread over those hours). */
  utilization: number;
}

export interface CloudPrice {
  onDemandPerHour?: number;
  spotPerHour?: number;
}

export interface HourlyCost {
  perHour: number;
  basis: string;
}

const HOURS_PER_YEAR = 365.25 * 24;

/** Money as people read it: "$0.11", "$12.50"; amounts under a dime keep two significant digits ("$0.0045"). */
export function formatUsd(v: number): string {
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  return `${v < 0 ? "-" : ""}$${a === 0 || a >= 0.1 ? a.toFixed(2) : String(+a.toPrecision(2))}`;
}

/** An hourly rate: "$0.11/h". */
export const formatPerHour = (v: number): string => `${formatUsd(v)}/h`;

/** Owned: purchase / (lifespan hours × utilization) + power kW × price per kWh. */
export function ownedHourlyCost(o: OwnedHardware): HourlyCost {
  if (!(o.lifespanYears > 0) || !(o.utilization > 0 && o.utilization <= 1)) throw new RangeError("lifespanYears must be > 0 and utilization in (0, 1]");
  const depreciation = o.purchasePrice / (o.lifespanYears * HOURS_PER_YEAR * o.utilization);
  const power = (o.powerWatts / 1000) * o.electricityPerKwh;
  return {
    perHour: depreciation + power,
    basis: `owned: ${formatUsd(o.purchasePrice)} over ${o.lifespanYears} y at ${Math.round(o.utilization * 100)}% utilization = ${formatPerHour(depreciation)}, power ${o.powerWatts} W × ${formatUsd(o.electricityPerKwh)}/kWh = ${formatPerHour(power)}`,
  };
}

export function cloudHourlyCost(p: CloudPrice, spot: boolean): HourlyCost | undefined {
  const v = spot ? p.spotPerHour : p.onDemandPerHour;
  return v === undefined ? undefined : { perHour: v, basis: `${spot ? "spot" : "on-demand"} ${formatPerHour(v)}` };
}

/** Cost of a job of `seconds` at an hourly rate (billed per second). */
export function jobCost(perHour: number, seconds: number): number {
  return (perHour * seconds) / 3600;
}

/** Cost per million tokens at a sustained `tokensPerSecond`. */
export function costPerMillionTokens(perHour: number, tokensPerSecond: number): number {
  return tokensPerSecond > 0 ? (perHour / (tokensPerSecond * 3600)) * 1e6 : Number.POSITIVE_INFINITY;
}
