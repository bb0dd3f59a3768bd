// AMD probe: rocm-smi --json (ROCm up to 6.x), falling back to amd-smi --json (its successor).
import type { ProbeContext, ProbeManifest, ProbeOutcome, ProbeTransport } from "../manifest.js";
import { runTool } from "../probe-util.js";
import { amdSmiGpus, parseRocmSmiJson, rocmSmiGpus } from "./parse.js";

export const ROCM_SMI_ARGS = [
  "--showproductname",
  "--showmeminfo",
  "vram",
  "--showuse",
  "--showpower",
  "--showmaxpower",
  "--showtemp",
  "--showdriverversion",
  "--showbus",
  "--showuniqueid",
  "--json",
];

export async function probeAmd(t: ProbeTransport): Promise<ProbeOutcome> {
  const name = "probe-amd";
  const rocm = await runTool(t, ["rocm-smi", ...ROCM_SMI_ARGS]);
  if (rocm.kind === "ok") {
    try {
      return { probe: name, status: "ok", gpus: rocmSmiGpus(parseRocmSmiJson(rocm.stdout)) };
    } catch (e) {
      return { probe: name, status: "failed", reason: `rocm-smi: unreadable JSON: ${(e as Error).message}`, gpus: [] };
    }
  }
  const st = await runTool(t, ["amd-smi", "static", "--json"]);
  if (st.kind === "missing" && rocm.kind === "missing") return { probe: name, status: "missing", reason: "rocm-smi and amd-smi not found", gpus: [] };
  if (st.kind !== "ok") return { probe: name, status: "failed", reason: rocm.kind === "failed" ? rocm.reason : st.reason, gpus: [] };
  const mt = await runTool(t, ["amd-smi", "metric", "--json"]);
  try {
    return { probe: name, status: "ok", gpus: amdSmiGpus(st.stdout, mt.kind === "ok" ? mt.stdout : undefined) };
  } catch (e) {
    return { probe: name, status: "failed", reason: `amd-smi: unreadable JSON: ${(e as Error).message}`, gpus: [] };
  }
}

export const manifest: ProbeManifest = {
  kind: "probe",
  name: "probe-amd",
  version: "0.1.0",
  description: "AMD GPUs through rocm-smi --json or amd-smi --json",
  detect: (ctx: ProbeContext) => ctx.os === "Linux",
  probe: probeAmd,
};
