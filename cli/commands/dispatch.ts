// hwledger dispatch: where should this job run — fleet devices, catalog devices and cloud offers ranked by
// fit, estimated duration and cost; every rejection says why. The decision is recorded in the ledger.
import type { Command } from "commander";
import { hostname } from "node:os";
import { makeDeployment } from "../../lib/calc/index.js";
import { dispatchCandidates } from "../../lib/fleet/candidates.js";
import { dispatch } from "../../lib/fleet/dispatch.js";
import { placementDevice } from "../../lib/fleet/caps.js";
import { catalogDevices, findDevice } from "../../lib/fleet/devices.js";
import { DEFAULT_ENGINE, ENGINES, parseEngine } from "../../plugins/engines.js";
import { printJson, printLines } from "../output.js";
import { columns } from "../table.js";
import { addModelOptions, flagValue, ledgerDirFlag, loadModel, optFlag } from "./shared.js";
import { addDispatchRentOptions } from "./cloud-rent.js";
import type { DispatchRentFlags } from "./cloud-rent.js";

interface DispatchFlags extends Omit<DispatchRentFlags, "model" | "gguf" | "engine" | "spot" | "json"> {
  model?: string;
  gguf?: string;
  engine?: string;
  weights?: string;
  kvDtype?: string;
  context: string;
  seqs: string;
  tokens: string;
  prompt?: string;
  maxLatency?: string;
  budget?: string;
  host?: string;
  spot?: boolean;
  online?: boolean;
  ledger?: string;
  record?: boolean;
  lifespanYears: string;
  utilization: string;
  electricity?: string;
  json?: boolean;
}

export function registerDispatch(program: Command): void {
  const cmd = program.command("dispatch").description("rank fleet devices, catalog devices and cloud offers for a job by fit, duration and cost");
  addModelOptions(cmd)
    .option("--engine <engine>", "plan every candidate with this engine (default: per device class and weights)")
    .option("--weights <dtype|quant>", "weight dtype or quantization")
    .option("--kv-dtype <t|k,v>", "KV cache dtype")
    .requiredOption("--context <n>", "tokens per sequence")
    .option("--seqs <n>", "parallel sequences", "1")
    .requiredOption("--tokens <n>", "tokens to generate in total")
    .option("--prompt <n>", "prompt tokens per sequence (prefill)", "0")
    .option("--max-latency <s>", "reject candidates slower than this many seconds")
    .option("--budget <usd>", "reject candidates costing more than this")
    .option("--host <cpu-id>", "catalog CPU whose RAM may take the layers a GPU cannot hold: offloaded candidates (llama.cpp -ngl) beside full-GPU ones")
    .option("--spot", "price cloud offers at their spot/interruptible rate")
    .option("--online", "ask providers' live price APIs (falls back to shipped snapshots)")
    .option("--ledger <dir>", "ledger for fleet devices and the recorded decision")
    .option("--no-record", "do not record the decision in the ledger")
    .option("--lifespan-years <y>", "owned hardware depreciation period", "4")
    .option("--utilization <u>", "fraction of hours owned hardware does paid work", "0.5")
    .option("--electricity <usd-per-kwh>", "electricity price (default: median of the shipped country table)")
    .option("--json", "print one JSON document on stdout")
    .action(async (flags: DispatchFlags) => {
      const context = flagValue("tokens", flags.context, "--context");
      const seqs = flagValue("seqs", flags.seqs, "--seqs");
      const tokens = flagValue("jobTokens", flags.tokens, "--tokens");
      const prompt = flagValue("tokensOrZero", flags.prompt ?? "0", "--prompt");
      const maxLatency = optFlag("seconds", flags.maxLatency, "--max-latency");
      const budget = optFlag("usd", flags.budget, "--budget");
      const lifespanYears = flagValue("years", flags.lifespanYears, "--lifespan-years");
      const utilization = flagValue("fraction", flags.utilization, "--utilization");
      const electricity = optFlag("usdPerKwh", flags.electricity, "--electricity");
      const { model } = await loadModel(flags);
      const base = makeDeployment(model, { engine: parseEngine(flags.engine ?? DEFAULT_ENGINE), weights: flags.weights, kvDtype: flags.kvDtype, context, seqs });
      const job = {
        context,
        seqs,
        tokens,
        prompt,
        ...(maxLatency !== undefined ? { maxLatencySeconds: maxLatency } : {}),
        ...(budget !== undefined ? { budget } : {}),
        ...(flags.host !== undefined ? { host: placementDevice(findDevice(flags.host, { hosts: true })) } : {}),
      };
      if (flags.rent) return (await import("./cloud-rent.js")).dispatchRent(model, base, job, flags, await ledgerDirFlag(flags.ledger));
      const { loadPrices } = await import("../../loaders/prices.js");
      const { defaultElectricityPerKwh } = await import("../../plugins/price-static/index.js");
      const prices = await loadPrices(flags.online ? { online: true } : {});
      const ledgerDir = await ledgerDirFlag(flags.ledger);
      const { fleetDevices } = await import("../../loaders/fleet.js");
      const candidates = dispatchCandidates({
        catalog: catalogDevices(),
        fleet: await fleetDevices(ledgerDir),
        offers: prices.offers,
        purchases: prices.purchases,
        base,
        engines: ENGINES,
        fixedEngine: flags.engine !== undefined,
        spot: !!flags.spot,
        lifespanYears,
        utilization,
        electricityPerKwh: electricity ?? defaultElectricityPerKwh(),
      });
      const result = dispatch(model, base, job, candidates, ENGINES);
      const out = { model: model.id, job, candidates: result.candidates, rejected: result.rejected, prices: prices.sources };
      if (flags.record !== false && result.candidates.length) {
        const { appendEvents } = await import("../../lib/ledger/index.js");
        const { makeEvent } = await import("../../lib/fleet/events.js");
        const top = result.candidates[0];
        await appendEvents(ledgerDir, [makeEvent("dispatch_decided", { chosen: top.id, decision: { model: model.id, job, top: result.candidates.slice(0, 5), rejected: result.rejected.length } }, { host: hostname().replace(/[^A-Za-z0-9._-]/g, "-") })]);
      }
      if (flags.json) return printJson(out);
      const rows = result.candidates.slice(0, 20).map((c, i) => [`${i + 1}.`, c.id, c.offload ? `${c.engine}, offloaded` : c.engine, `${c.seconds.toFixed(1)} s`, c.cost === null ? "cost n/a" : `$${c.cost.toFixed(4)}`]);
      printLines([...columns(rows, ["right", "left", "left", "right", "right"]), `${result.rejected.length} rejected (see --json for every reason)`]);
    });
  addDispatchRentOptions(cmd);
}
