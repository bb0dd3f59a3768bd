// Every CLI command, one line each. Heavy dependencies are imported inside the actions, keeping start-up fast.
import type { Command } from "commander";
import { registerDevices } from "./devices.js";
import { registerFit } from "./fit.js";
import { registerPlan } from "./plan.js";
import { registerProbe } from "./probe.js";
import { registerCollect } from "./collect.js";
import { registerRun } from "./run.js";
import { registerSpeed } from "./speed.js";
import { registerSplit } from "./split.js";
import { registerDispatch } from "./dispatch.js";
import { registerPrices } from "./prices.js";
import { registerCosts } from "./costs.js";
import { registerLedger } from "./ledger.js";
import { registerExport } from "./export.js";
import { registerReport } from "./report.js";

export const COMMANDS: Array<(program: Command) => void> = [registerPlan, registerFit, registerDevices, registerProbe, registerCollect, registerRun, registerSpeed, registerSplit, registerDispatch, registerPrices, registerCosts, registerLedger, registerExport, registerReport];
