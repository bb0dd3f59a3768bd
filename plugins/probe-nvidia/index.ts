// NVIDIA probe: nvidia-smi's CSV query interface (stable across drivers, unlike the table and -q text).
import type { ProbeContext, ProbeManifest, ProbeOutcome, ProbeTransport } from "../manifest.js";
import { runTool } from "../probe-util.js";
import { APP_FIELDS, GPU_FIELDS, nvidiaFailure, parseComputeApps, parseQueryGpu } from "./parse.js";

export async function probeNvidia(t: ProbeTransport): Promise<ProbeOutcome> {
  const name = "probe-nvidia";
  const gpu = await runTool(t, ["nvidia-smi", `--query-gpu=${GPU_FIELDS.join(",")}`, "--format=csv,noheader,nounits"]);
  if (gpu.kind === "missing") return { probe: name, status: "missing", reason: gpu.reason, gpus: [] };
  if (gpu.kind === "failed") {
    // nvidia-smi prints its driver errors on stdout with a non-zero exit; say what it said.
    return { probe: name, status: "failed", reason: `nvidia-smi: ${nvidiaFailure(gpu.output ?? "") ?? gpu.reason.replace(/^nvidia-smi: /, "")}`, gpus: [] };
  }
  const failure = nvidiaFailure(gpu.stdout);
  if (failure) return { probe: name, status: "failed", reason: `nvidia-smi: ${failure}`, gpus: [] };
  const gpus = parseQueryGpu(gpu.stdout);
  const apps = await runTool(t, ["nvidia-smi", `--query-compute-apps=${APP_FIELDS.join(",")}`, "--format=csv,noheader,nounits"]);
  const processes = apps.kind === "ok" ? parseComputeApps(apps.stdout) : [];
  return { probe: name, status: "ok", gpus, processes };
}

export const manifest: ProbeManifest = {
  kind: "probe",
  name: "probe-nvidia",
  version: "0.1.0",
  description: "NVIDIA GPUs through nvidia-smi --query-gpu / --query-compute-apps (CSV)",
  detect: (ctx: ProbeContext) => ctx.os === "Linux" || ctx.os.startsWith("MINGW") || ctx.os === "Windows_NT",
  probe: probeNvidia,
};
