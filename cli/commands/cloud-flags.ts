// The flags shared by `cloud up` and `dispatch --rent` (spending limits, SSH, image), their parsing, and the
// confirmation asked on a terminal. Defaults come from lib/fleet/rent.ts RENT_DEFAULTS.
import type { Command } from "commander";
import { createInterface } from "node:readline/promises";
import { InputError } from "../../lib/calc/types.js";
import { RENT_DEFAULTS } from "../../lib/fleet/rent.js";
import { flagValue, strictNumber } from "../args.js";

export interface RentFlags {
  spendLimit: string;
  dailyLimit: string;
  maxHours: string;
  readyTimeout: string;
  image?: string;
  disk: string;
  identity?: string;
  sshUser?: string;
  sshPort?: string;
  sshKeyName?: string;
  yes?: boolean;
}

export function addRentOptions(cmd: Command): Command {
  return cmd
    .option("--spend-limit <usd>", "most one instance may cost; it is stopped before that", String(RENT_DEFAULTS.instanceLimitUsd))
    .option("--daily-limit <usd>", "most all rentals started today (UTC) may cost together", String(RENT_DEFAULTS.dailyLimitUsd))
    .option("--max-hours <h>", "longest an instance may live", String(RENT_DEFAULTS.maxHours))
    .option("--ready-timeout <s>", "give up (and destroy it) when SSH does not answer within this", String(RENT_DEFAULTS.readyTimeoutS))
    .option("--image <ref>", "container image (Vast.ai, RunPod; default: the provider's base image)")
    .option("--disk <gb>", "disk to ask for", String(RENT_DEFAULTS.diskGb))
    .option("--identity <file>", "SSH private key (its .pub is put on the instance where the API allows)")
    .option("--ssh-user <user>", "SSH user when the image is not the provider's default")
    .option("--ssh-port <port>", "SSH port when it is not the one the provider reports")
    .option("--ssh-key-name <name>", "a key registered with the provider, for APIs that want a name (Lambda)")
    .option("--yes", "do not ask before renting");
}

/** A positive number up to `max` (hours, GB, a port), for the flags cli/args.ts has no kind for. */
const bounded = (v: string, flag: string, max: number, integer = false) => {
  const n = strictNumber(v, flag);
  if (!(n > 0) || n > max || (integer && !Number.isInteger(n))) throw new InputError(`${flag} must be a positive ${integer ? "whole number" : "number"} up to ${max}, got "${v}"`);
  return n;
};
const usd = (v: string, flag: string) => {
  const n = flagValue("usd", v, flag);
  if (!(n > 0)) throw new InputError(`${flag} must be positive, got "${v}"`);
  return n;
};

export function rentSettings(f: RentFlags) {
  const port = f.sshPort !== undefined ? bounded(f.sshPort, "--ssh-port", 65535, true) : undefined;
  return {
    limits: { instanceLimitUsd: usd(f.spendLimit, "--spend-limit"), dailyLimitUsd: usd(f.dailyLimit, "--daily-limit"), maxHours: bounded(f.maxHours, "--max-hours", 24 * 365) },
    readyTimeoutS: flagValue("seconds", f.readyTimeout, "--ready-timeout"),
    diskGb: bounded(f.disk, "--disk", 1_000_000, true),
    ...(f.image ? { image: f.image } : {}),
    ssh: {
      ...(f.identity ? { identityFile: f.identity } : {}),
      ...(f.sshUser ? { user: f.sshUser } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(f.sshKeyName ? { keyName: f.sshKeyName } : {}),
    },
  };
}

/** Shows what will be rented on stderr; asks on a terminal unless --yes; refuses without a terminal or --yes. */
export async function confirmRent(summary: string[], yes: boolean | undefined): Promise<boolean> {
  for (const line of summary) process.stderr.write(`${line}\n`);
  if (yes) return true;
  if (!process.stdin.isTTY) throw new InputError("renting costs money: pass --yes to rent without a terminal to confirm on");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question("Rent it? [y/N] ")).trim());
  } finally {
    rl.close();
  }
}
