// The hwledger CLI program. Each command lives in cli/commands/<name>.ts and registers itself here.
import { Command, CommanderError } from "commander";
import { InputError, exitCodeFor, oneLine } from "../collector/errors.js";
import { COMMANDS } from "./commands/index.js";
import { safeText } from "./output.js";
import { redact, secretValues } from "../lib/fleet/redact.js";

/** Registers the command named in argv (or all of them for top-level help and unknown names). */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command("hwledger")
    .description("Plan, run and account LLM deployments on your own and rented hardware")
    .version("0.1.0")
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.split("\n").map(safeText).join("\n")) });
  const first = argv.find((a) => !a.startsWith("-"));
  const names = first && first in COMMANDS ? [first] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]())(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0; usage errors are bad input.
      if (err.exitCode === 0) return 0;
      return 2;
    }
    // One line, with any secret redacted and any control character from an input shown, not obeyed. An InputError is
    // one line by construction, so a newline in it came from the input and is escaped; other errors keep their first.
    const line = err instanceof InputError ? err.message : oneLine(err);
    process.stderr.write(`hwledger: ${safeText(redact(line, secretValues(process.env)))}\n`);
    if (process.env.HWLEDGER_DEBUG && err instanceof Error) process.stderr.write(`${redact(err.stack ?? "", secretValues(process.env))}\n`);
    return exitCodeFor(err);
  }
}
