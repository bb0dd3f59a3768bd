// Probe parsers on verbatim real tool outputs (test/fixtures/samples, sources in SOURCES.md there). The GPU tools
// cannot run on this machine; the Linux probe also runs for real in probe-linux.test.ts.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { nvidiaFailure, parseComputeApps, parseQueryGpu, parseSmiCsv } from "../plugins/probe-nvidia/parse.js";
import { linuxHost, parseLscpuJson, parseMeminfo } from "../plugins/probe-linux/parse.js";
import { amdSmiGpus, parseRocmSmiConcise, parseRocmSmiJson, parseRocmSmiText, rocmSmiGpus } from "../plugins/probe-amd/parse.js";
import { appleGpus, appleHost, parseMacmon, parseSysctl, parseSystemProfiler } from "../plugins/probe-apple/parse.js";

const sample = (p: string) => readFileSync(new URL(`./fixtures/samples/${p}`, import.meta.url), "utf8");
const MIB = 1024 * 1024;

describe("nvidia-smi --query-gpu CSV", () => {
  it("reads the H100 capture (header with units, every field) into bytes, W, °C, %", () => {
    const [g, ...rest] = parseQueryGpu(sample("nvidia/query-gpu-allfields-h100-load-590.csv"));
    expect(rest).toEqual([]);
    expect(g).toEqual({
      vendor: "nvidia",
      index: 0,
      name: "NVIDIA H100 80GB HBM3",
      uuid: "GPU-00000000-0000-0000-0000-000000000000",
      busId: "00000000:00:09.0",
      driver: "590.48.01",
      memoryTotalBytes: 81559 * MIB,
      memoryUsedBytes: 19818 * MIB,
      utilizationPct: 100,
      powerW: 631.95,
      powerLimitW: 700,
      temperatureC: 59,
    });
  });

  it("leaves [N/A] out: MIG mode has no GPU utilization", () => {
    const [g] = parseQueryGpu(sample("nvidia/query-gpu-allfields-h100-mig-load-590.csv"));
    expect(g.utilizationPct).toBeUndefined();
    expect(g.memoryUsedBytes).toBe(11125 * MIB);
    expect(g.powerW).toBe(433.78);
  });

  it("reads a subset query without index or memory.total (Tesla P100, no trailing newline)", () => {
    const [g] = parseQueryGpu(sample("nvidia/query-gpu-subset-tesla-p100.csv"));
    expect(g).toMatchObject({ index: 0, name: "Tesla P100-PCIE-16GB", memoryUsedBytes: 0, utilizationPct: 0, temperatureC: 37, powerW: 28.16 });
    expect(g.memoryTotalBytes).toBeUndefined();
  });

  it("maps noheader,nounits output by the requested field list", () => {
    // The H100 compute-apps capture with its header line and " MiB" units removed is exactly what the same
    // query prints with --format=csv,noheader,nounits.
    const raw = sample("nvidia/query-compute-apps-h100-load-590.csv");
    const fields = ["timestamp", "gpu_name", "gpu_bus_id", "gpu_serial", "gpu_uuid", "pid", "process_name", "used_gpu_memory"];
    const bare = raw.split("\n").slice(1).join("\n").replace(/ MiB$/gm, "");
    expect(parseSmiCsv(bare, fields)).toEqual(parseSmiCsv(raw, fields).map((r) => ({ ...r, used_gpu_memory: r.used_gpu_memory.replace(/ MiB$/, "") })));
    expect(parseComputeApps(bare, fields).map((p) => p.usedBytes)).toEqual([2566 * MIB, 1542 * MIB, 15690 * MIB]);
  });
});

describe("nvidia-smi --query-compute-apps CSV", () => {
  it("reads pids, names and used memory (H100)", () => {
    const apps = parseComputeApps(sample("nvidia/query-compute-apps-h100-load-590.csv"));
    expect(apps.map((a) => [a.pid, a.name, a.usedBytes])).toEqual([
      [11327, "/root/tools/memhog", 2566 * MIB],
      [11328, "/root/tools/memhog", 1542 * MIB],
      [11345, "./gpu_burn", 15690 * MIB],
    ]);
  });

  it("keeps Windows paths with spaces whole and leaves WDDM's [N/A] memory undefined", () => {
    const apps = parseComputeApps(sample("nvidia/query-compute-apps-windows-rtx2080s-591.csv"));
    expect(apps).toHaveLength(12);
    expect(apps[4]).toEqual({ gpuUuid: "GPU-00000000-0000-0000-0000-000000000000", pid: 20372, name: "C:\\Program Files\\NZXT CAM\\NZXT CAM.exe" });
    expect(apps.every((a) => a.usedBytes === undefined)).toBe(true);
  });
});

describe("nvidia-smi failures", () => {
  it.each([
    ["error-driver-communicate-2line-qixuema-envs-4.txt", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."],
    ["error-driver-communicate-shine-cluster-50.txt", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."],
    ["error-nvml-version-mismatch-tinygrad-47.txt", "Failed to initialize NVML: Driver/library version mismatch"],
    ["error-nvml-version-mismatch-shine-cluster-30.txt", "Failed to initialize NVML: Driver/library version mismatch"],
  ])("%s becomes one line", (file, msg) => {
    expect(nvidiaFailure(sample(`nvidia/${file}`))).toBe(msg);
  });

  it("finds no failure in data", () => {
    expect(nvidiaFailure(sample("nvidia/query-gpu-allfields-h100-load-590.csv"))).toBeUndefined();
  });
});

describe("Linux /proc/meminfo and lscpu -J", () => {
  it("reads meminfo in KiB as bytes", () => {
    const m = parseMeminfo(sample("linux/proc-meminfo-4gb-vm.txt"));
    expect(m.MemTotal).toBe(3997272 * 1024);
    expect(m.MemAvailable).toBe(3386876 * 1024);
    expect(m.HugePages_Total).toBe(0); // a count, not kB
  });

  it("reads the flat x86 layout and the 4-socket Grace layout with null data", () => {
    const x86 = linuxHost(parseMeminfo(sample("linux/proc-meminfo-4gb-vm.txt")), parseLscpuJson(sample("linux/lscpu-j-x86-i5-m460-flat.json")));
    expect(x86).toEqual({
      os: "Linux",
      arch: "x86_64",
      cpuModel: "Intel(R) Core(TM) i5 CPU       M 460  @ 2.53GHz",
      cpuCount: 4,
      sockets: 1,
      ramTotalBytes: 3997272 * 1024,
      ramAvailableBytes: 3386876 * 1024,
      swapTotalBytes: 3996668 * 1024,
      swapUsedBytes: 0,
    });
    const grace = linuxHost(undefined, parseLscpuJson(sample("linux/lscpu-j-arm64-gh200-4socket-flat.json")));
    expect(grace).toMatchObject({ arch: "aarch64", cpuCount: 288, sockets: 4 });
    expect(grace.cpuModel).toBeUndefined(); // this lscpu prints no "Model name" for Grace
  });

  it("says what is wrong with a non-lscpu document", () => {
    expect(() => parseLscpuJson("{}")).toThrow(/no "lscpu" array/);
  });
});

describe("rocm-smi", () => {
  const text = sample("amd/rocm-smi-a-text-4xMI300X.txt");

  it("reads the -a text report per card (4x MI300X)", () => {
    const gpus = rocmSmiGpus(parseRocmSmiText(text));
    expect(gpus).toHaveLength(4);
    expect(gpus[0]).toEqual({
      vendor: "amd",
      index: 0,
      name: "AMD Instinct MI300X OAM",
      uuid: "0x8d1457e2c20f59d2",
      busId: "0000:26:00.0",
      driver: "6.7.0",
      utilizationPct: 0,
      powerW: 133,
      powerLimitW: 750,
      temperatureC: 35,
    });
    expect(gpus.map((g) => g.temperatureC)).toEqual([35, 37, 34, 39]);
    expect(gpus.map((g) => g.powerW)).toEqual([133, 130, 131, 136]);
  });

  it("reads --json the same way (rocm_smi.py's JSON holds the same key/value pairs per cardN)", () => {
    // Built from the text report's own pairs, in rocm-smi's documented JSON shape.
    const report = parseRocmSmiText(text);
    const json = JSON.stringify({
      ...Object.fromEntries([...report.cards].map(([i, c]) => [`card${i}`, c])),
      system: report.system,
    });
    expect(rocmSmiGpus(parseRocmSmiJson(json))).toEqual(rocmSmiGpus(report));
  });

  it("reads the concise table: temperature, power, cap and use per GPU, the name from the second row", () => {
    const gpus = parseRocmSmiConcise(sample("amd/rocm-smi-table-4xMI300X.txt"));
    expect(gpus).toHaveLength(4);
    expect(gpus[0]).toEqual({ vendor: "amd", index: 0, name: "AMD Instinct MI300X", temperatureC: 35, powerW: 133, powerLimitW: 750, utilizationPct: 0 });
    expect(gpus.map((g) => g.temperatureC)).toEqual([35, 37, 34, 38]);
    expect(gpus.map((g) => g.powerW)).toEqual([133, 131, 131, 137]);
  });

  it("amd-smi: reads {value, unit} fields; an empty list is no GPUs", () => {
    expect(amdSmiGpus("[]", "[]")).toEqual([]);
  });
});

describe("Apple Silicon", () => {
  it("M5 Max: system_profiler hardware + sysctl perflevels", () => {
    const sp = parseSystemProfiler(sample("apple/system-profiler-hardware-m5max.json"));
    const host = appleHost(sp, parseSysctl(sample("apple/sysctl-perflevels-m5max.txt")));
    expect(host).toEqual({ os: "Darwin", arch: "arm64", cpuModel: "Apple M5 Max", cpuCount: 18, machineModel: "Mac17,6", ramTotalBytes: 128 * 1024 ** 3 });
  });

  it("GitHub macOS 26 VM: sysctl's exact hw.memsize wins over system_profiler's rounded GB", () => {
    const sp = parseSystemProfiler(sample("apple/system-profiler-hardware-m1-virtual-gha-macos26.json"));
    const host = appleHost(sp, parseSysctl(sample("apple/sysctl-hw-m1-virtual-gha-macos26.txt")));
    expect(host).toMatchObject({ cpuModel: "Apple M1 (Virtual)", cpuCount: 3, machineModel: "VirtualMac2,1", ramTotalBytes: 7516192768 });
  });

  it("under Rosetta there is no chip_type: the model comes from elsewhere or stays unknown", () => {
    const host = appleHost(parseSystemProfiler(sample("apple/system-profiler-hardware-m1-under-rosetta.json")));
    expect(host).toMatchObject({ cpuCount: 8, ramTotalBytes: 16 * 1024 ** 3, machineModel: "MacBookAir10,1" });
    expect(host.cpuModel).toBeUndefined();
  });

  it("GPU from SPDisplaysDataType with macmon telemetry (unified memory)", () => {
    const sp = parseSystemProfiler(sample("apple/system-profiler-displays-m1pro-3displays.json"));
    const mm = parseMacmon(sample("apple/macmon-pipe-16gb-beszel-test.jsonl"))!;
    expect(mm).toMatchObject({ ramTotalBytes: 17179869184, ramUsedBytes: 12322914304, gpuTemperatureC: 29.44516944885254 });
    const host = appleHost(sp, undefined, mm);
    const [gpu, ...more] = appleGpus(sp, { ...host, ramTotalBytes: mm.ramTotalBytes }, mm);
    expect(more).toEqual([]);
    expect(gpu).toMatchObject({ vendor: "apple", name: "Apple M1 Pro", cores: 14, unifiedMemory: true, memoryTotalBytes: 17179869184, memoryUsedBytes: 12322914304 });
    expect(gpu.powerW).toBeCloseTo(0.010859241709113121, 15);
    expect(gpu.utilizationPct).toBeCloseTo(1.3633215799927711, 12);
  });

  it("macmon's 0.0 GPU temperature is no reading", () => {
    const mm = parseMacmon(sample("apple/macmon-pipe-16gb-beszel-1796.jsonl"))!;
    expect(mm.gpuTemperatureC).toBeUndefined();
    expect(mm.swapUsedBytes).toBe(1027801088);
  });
});
