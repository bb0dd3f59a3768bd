// Apple unified memory: the GPU may wire only its working set (MTLDevice.recommendedMaxWorkingSetSize), checked
// against the values ggml-metal printed on real Macs (sources in lib/fleet/device-class.ts metalWorkingSet), and the
// user's override (sudo sysctl iogpu.wired_limit_mb=N, --wired-limit-mb). One rule: the catalog, --device, dispatch
// and the pages all read a Mac's memory through it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { placementDevice } from "../lib/fleet/caps.js";
import { metalWorkingSet } from "../lib/fleet/device-class.js";
import { catalogDevices, engineDevice, findDevice } from "../lib/fleet/devices.js";
import { runCli, runCliJson } from "./helpers/cli.js";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe("the macOS GPU working set", () => {
  it("matches ggml_metal_init's printed recommendedMaxWorkingSetSize for 16, 32, 64 and 96 GB Macs", () => {
    // As printed, in MiB with two decimals.
    const printed: Array<[number, number]> = [[16, 10922.67], [32, 21845.34], [64, 49152.0], [96, 73728.0]];
    for (const [gb, mib] of printed) expect(Math.abs(metalWorkingSet(gb * GiB).bytes / MiB - mib)).toBeLessThan(0.01);
    // iogpu.wired_limit_mb=114688 → "recommendedMaxWorkingSetSize: 112.00 GiB" (antirez/ds4#893).
    expect(metalWorkingSet(128 * GiB, 114688).bytes).toBe(112 * GiB);
  });

  it("reports (not held) the larger working sets newer macOS prints", () => {
    const log = readFileSync("data/evidence/logs/llamacpp-server-gemma4-e4b-q8-metal-m4-swa-b8680.log", "utf8");
    const m4 = Number(/recommendedMaxWorkingSetSize\s*=\s*([\d.]+) MB/.exec(log)![1]);
    const rows = [
      `Apple M4 (16 GB assumed), llama.cpp b8680: printed ${m4} MiB, hwledger ${(metalWorkingSet(16 * GiB).bytes / MiB).toFixed(2)} MiB`,
      `M5 Max 128 GB, macOS 26 (antirez/ds4#893): printed 107.52 GiB, hwledger ${(metalWorkingSet(128 * GiB).bytes / GiB).toFixed(2)} GiB`,
    ];
    console.log(rows.join("\n"));
    // hwledger's share is the smaller one: a plan that fits it fits these machines too.
    expect(metalWorkingSet(16 * GiB).bytes / MiB).toBeLessThan(m4);
  });

  it("the catalog, --device and placement give a 16 GB Mac the same 10.67 GiB (not 16 GiB)", () => {
    const id = catalogDevices().find((d) => d.category.startsWith("apple") && d.unifiedMemoryBytes === 16 * GiB)!.id;
    const d = findDevice(id);
    expect(d.memoryBytes).toBe(Math.floor((16 * GiB * 2) / 3));
    expect(engineDevice(id).memoryBytes).toBe(d.memoryBytes);
    expect(engineDevice(id).memoryBasis).toMatch(/working set/);
    expect(placementDevice(d).memoryBytes).toBe(d.memoryBytes);
    expect(engineDevice(id, { wiredLimitMb: 14336 }).memoryBytes).toBe(14 * GiB);
    // Other devices keep their whole memory.
    expect(findDevice("h100-sxm-80gb").memoryBytes).toBe(80 * GiB);
  });

  it("hwledger fit on a Mac uses the working set, or the user's --wired-limit-mb; bad input is exit 2", () => {
    const id = catalogDevices().find((d) => d.category.startsWith("apple") && d.unifiedMemoryBytes === 16 * GiB)!.id;
    const base = ["fit", "--model", "Qwen/Qwen2.5-7B-Instruct", "--engine", "llama.cpp", "--weights", "Q4_K_M", "--device", id, "--gpu-memory-utilization", "1"];
    const stock = runCliJson(base);
    const raised = runCliJson([...base, "--wired-limit-mb", "14336"]);
    expect(stock.basis.join(" ")).toMatch(/2\/3 of 16 GiB/);
    expect(raised.kvCapacityTokens).toBeGreaterThan(stock.kvCapacityTokens);
    const bad = runCli([...base, "--wired-limit-mb", "lots"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    const notApple = runCli(["fit", "--model", "Qwen/Qwen2.5-7B-Instruct", "--engine", "llama.cpp", "--device", "h100-sxm-80gb", "--wired-limit-mb", "1000"]);
    expect(notApple.code).toBe(2);
    expect(notApple.stderr).toMatch(/Apple/);
  });
});
