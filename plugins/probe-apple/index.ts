// Apple Silicon probe: system_profiler (model, chip, GPU cores), sysctl (exact RAM bytes, CPU count) and one
// `macmon pipe` sample (GPU power, usage, temperature) when macmon is installed (it needs no sudo).
import type { ProbeContext, ProbeManifest, ProbeOutcome, ProbeTransport } from "../manifest.js";
import { runTool } from "../probe-util.js";
import { appleGpus, appleHost, parseMacmon, parseSysctl, parseSystemProfiler } from "./parse.js";
import type { MacmonSample, SystemProfiler } from "./parse.js";

export const SYSCTL_NAMES = ["hw.model", "hw.memsize", "hw.ncpu", "hw.nperflevels", "hw.perflevel0.physicalcpu", "hw.perflevel1.physicalcpu", "machdep.cpu.brand_string"];

export async function probeApple(t: ProbeTransport): Promise<ProbeOutcome> {
  const name = "probe-apple";
  const [sp, sc, mm] = await Promise.all([
    runTool(t, ["system_profiler", "SPHardwareDataType", "SPDisplaysDataType", "-json"], 20_000),
    // sysctl prints known names and complains about absent ones (perflevel1 on a VM): keep whatever it printed.
    t.exec(["sysctl", ...SYSCTL_NAMES], { timeoutMs: 5_000 }).catch(() => undefined),
    runTool(t, ["macmon", "pipe", "-s", "1", "-i", "200"], 5_000),
  ]);
  if (sp.kind !== "ok") return { probe: name, status: sp.kind, reason: sp.reason, gpus: [] };
  let profiler: SystemProfiler;
  try {
    profiler = parseSystemProfiler(sp.stdout);
  } catch (e) {
    return { probe: name, status: "failed", reason: `system_profiler: ${(e as Error).message}`, gpus: [] };
  }
  const sysctl = sc ? parseSysctl(sc.stdout) : undefined;
  let sample: MacmonSample | undefined;
  if (mm.kind === "ok") {
    try {
      sample = parseMacmon(mm.stdout);
    } catch {
      sample = undefined;
    }
  }
  const host = appleHost(profiler, sysctl, sample);
  return { probe: name, status: "ok", ...(mm.kind !== "ok" ? { reason: `no live GPU telemetry: ${mm.reason}` } : {}), host, gpus: appleGpus(profiler, host, sample) };
}

export const manifest: ProbeManifest = {
  kind: "probe",
  name: "probe-apple",
  version: "0.1.0",
  description: "Apple Silicon hosts: system_profiler -json, sysctl, macmon pipe",
  detect: (ctx: ProbeContext) => ctx.os === "Darwin",
  probe: probeApple,
};
