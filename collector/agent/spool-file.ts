// `hwledger agent push FILE`: the events of an NDJSON file into the agent's spool (then pushed like any other).
import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { InputError } from "../../lib/calc/types.js";
import { parseEvent } from "../../lib/fleet/events.js";
import { SPOOL_CHUNK, Spool } from "./spool.js";

/**
 * Spools the events of an NDJSON file: every line is checked first (a bad line is exit 2 naming it, and nothing is
 * spooled); the file is read as a stream and spooled in chunks, renamed into the spool only when all lines passed.
 */
export async function spoolFile(spool: Spool, file: string): Promise<number> {
  const staged = new Spool(join(spool.dir, `.stage-${process.pid}`));
  await rm(staged.dir, { recursive: true, force: true });
  await staged.open();
  let n = 0;
  let lineNo = 0;
  let chunk: string[] = [];
  try {
    const input = createReadStream(file, { encoding: "utf8" });
    input.on("error", () => undefined); // reported by the iterator below
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      if (line.trim() === "") continue;
      try {
        parseEvent(JSON.parse(line));
      } catch (e) {
        throw new InputError(`${file}: line ${lineNo}: ${e instanceof SyntaxError ? "not JSON" : (e as Error).message}`);
      }
      chunk.push(line.trim()); // checked above; the server checks it again
      n++;
      if (chunk.length === SPOOL_CHUNK) {
        await staged.add(chunk);
        chunk = [];
      }
    }
    if (chunk.length) await staged.add(chunk);
    await staged.moveInto(spool);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR" || code === "EACCES") throw new InputError(`${file}: cannot read (${code})`);
    throw e;
  } finally {
    await rm(staged.dir, { recursive: true, force: true });
  }
  return n;
}
