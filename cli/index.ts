// The hwledger CLI entry point (bin/hwledger.js runs it).
import { main } from "./main.js";
import { quietOnClosedPipe } from "./output.js";

quietOnClosedPipe();
const code = await main(process.argv.slice(2));
process.exitCode = code;
