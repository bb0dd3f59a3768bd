// Every CLI command, one line each: name -> module. Only the command being run is imported, so a cron
// `hwledger collect` does not load the planner, the price plugins or the site code (start-up time and memory).
import type { Command } from "commander";

type Register = (program: Command) => void;
const load = <M>(p: Promise<M>, name: keyof M) => p.then((m) => m[name] as unknown as Register);

export const COMMANDS: Record<string, () => Promise<Register>> = {
  plan: () => load(import("./plan.js"), "registerPlan"),
  fit: () => load(import("./fit.js"), "registerFit"),
  export: () => load(import("./export.js"), "registerExport"),
  report: () => load(import("./report.js"), "registerReport"),
  devices: () => load(import("./devices.js"), "registerDevices"),
  prices: () => load(import("./prices.js"), "registerPrices"),
  speed: () => load(import("./speed.js"), "registerSpeed"),
  costs: () => load(import("./costs.js"), "registerCosts"),
  dispatch: () => load(import("./dispatch.js"), "registerDispatch"),
  split: () => load(import("./split.js"), "registerSplit"),
  probe: () => load(import("./probe.js"), "registerProbe"),
  collect: () => load(import("./collect.js"), "registerCollect"),
  run: () => load(import("./run.js"), "registerRun"),
  ledger: () => load(import("./ledger.js"), "registerLedger"),
  cloud: () => load(import("./cloud.js"), "registerCloud"),
  hosts: () => load(import("./hosts.js"), "registerHosts"),
  certs: () => load(import("./certs.js"), "registerCerts"),
  serve: () => load(import("./serve.js"), "registerServe"),
  agent: () => load(import("./agent.js"), "registerAgent"),
};
