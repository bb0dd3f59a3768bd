// Every CLI command, one line each. Heavy dependencies are imported inside the actions, keeping start-up fast.
import type { Command } from "commander";
import { registerFit } from "./fit.js";
import { registerPlan } from "./plan.js";

export const COMMANDS: Array<(program: Command) => void> = [registerPlan, registerFit];
