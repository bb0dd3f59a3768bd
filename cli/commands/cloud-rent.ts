// `hwledger dispatch … --rent`: the adapter between dispatch's flags and collector/cloud/rent-run.ts.
import type { Command } from "commander";
import { RuntimeFailure } from "../../collector/errors.js";
import type { Deployment, ModelSpec } from "../../lib/calc/index.js";
import type { DispatchJob } from "../../lib/fleet/dispatch.js";
import { redactError } from "../../plugins/redact.js";
import { printJson, printLines, progress } from "../output.js";
import { addRentOptions, confirmRent, rentSettings } from "./cloud-flags.js";
import type { RentFlags } from "./cloud-flags.js";

export interface DispatchRentFlags extends RentFlags {
  rent?: boolean;
  remoteModel?: string;
  binary?: string;
  remoteHwledger?: string;
  gguf?: string;
  model?: string;
  engine?: string;
  spot?: boolean;
  json?: boolean;
}

export function addDispatchRentOptions(cmd: Command): Command {
  addRentOptions(
    cmd
      .option("--rent", "rent the best cloud offer, run the job there over SSH, record the actuals, stop it")
      .option("--remote-model <ref>", "--rent: what the engine loads on the instance (default: --gguf / --model as given)")
      .option("--binary <path>", "--rent: the engine's executable on the instance (default: its usual name on PATH)")
      .option("--remote-hwledger <dir>", "--rent: hwledger installed on the instance: an engine without its binary there runs through its plugin's embedded runner (node DIR/plugins/<engine>/…)"),
  );
  return cmd;
}

export async function dispatchRent(model: ModelSpec, base: Deployment, job: DispatchJob, f: DispatchRentFlags, ledger: string): Promise<void> {
  try {
    const s = rentSettings(f);
    const { connectAll } = await import("../../collector/cloud/providers.js");
    const { rentAndRun } = await import("../../collector/cloud/rent-run.js");
    const out = await rentAndRun({
      ledger,
      conns: await connectAll(),
      model,
      base,
      job,
      fixedEngine: f.engine !== undefined,
      spot: !!f.spot,
      limits: s.limits,
      readyTimeoutS: s.readyTimeoutS,
      ...(s.image ? { image: s.image } : {}),
      diskGb: s.diskGb,
      ssh: s.ssh,
      modelRef: (f.remoteModel ?? f.gguf ?? f.model)!,
      ...(f.binary ? { binary: f.binary } : {}),
      ...(f.remoteHwledger ? { remoteHwledger: f.remoteHwledger } : {}),
      confirm: (summary) => confirmRent(summary, f.yes),
      progress,
    });
    if (f.json) printJson(out);
    else
      printLines([
          `${out.instance.provider}/${out.instance.instanceId} (${out.offer.gpuCount}× ${out.offer.gpuName}, $${out.offer.perHour.toFixed(4)}/h): job ${out.job.jobId} ${out.job.status}${out.job.reason ? ` (${out.job.reason})` : ""} in ${out.job.durationS.toFixed(1)} s`,
          `decode ${out.job.actual.decodeTokensPerSecond?.toFixed(1) ?? "-"} tok/s; instance stopped; cost $${out.cost.amount.toFixed(4)} (${out.cost.basis})`,
          `recorded under host ${out.instance.host}`,
      ]);
    if (out.job.status !== "completed") throw new RuntimeFailure(`job ${out.job.jobId || "(not started)"} ${out.job.status}: ${out.job.reason}`);
  } catch (e) {
    throw redactError(e);
  }
}
