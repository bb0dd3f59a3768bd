// Linux CPU/RAM probe: /proc/meminfo and lscpu -J (nproc when lscpu is absent, e.g. busybox images).
import type { ProbeContext, ProbeManifest, ProbeOutcome, ProbeTransport } from "../manifest.js";
import { num, runTool } from "../probe-util.js";
import { linuxHost, parseLscpuJson, parseMeminfo } from "./parse.js";

export async function probeLinux(t: ProbeTransport): Promise<ProbeOutcome> {
  const name = "probe-linux";
  const [mem, cpu] = await Promise.all([runTool(t, ["cat", "/proc/meminfo"]), runTool(t, ["lscpu", "-J"])]);
  if (mem.kind !== "ok") return { probe: name, status: mem.kind, reason: mem.reason, gpus: [] };
  let lscpu: Record<string, string> | undefined;
  let reason: string | undefined;
  if (cpu.kind === "ok") {
    try {
      lscpu = parseLscpuJson(cpu.stdout);
    } catch (e) {
      reason = (e as Error).message;
    }
  } else reason = cpu.reason;
  const host = linuxHost(parseMeminfo(mem.stdout), lscpu);
  if (host.cpuCount === undefined) {
    const n = await runTool(t, ["nproc"]);
    if (n.kind === "ok") host.cpuCount = num(n.stdout);
  }
  return { probe: name, status: "ok", ...(reason ? { reason } : {}), host, gpus: [] };
}

export const manifest: ProbeManifest = {
  kind: "probe",
  name: "probe-linux",
  version: "0.1.0",
  description: "Linux host CPU and RAM from /proc/meminfo and lscpu -J",
  detect: (ctx: ProbeContext) => ctx.os === "Linux",
  probe: probeLinux,
};
