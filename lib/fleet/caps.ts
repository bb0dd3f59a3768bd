// Catalog device -> what the speed and placement math needs.
import { memoryClassOf } from "../calc/index.js";
import type { DeviceCompute } from "../calc/index.js";
import type { PlacementDevice } from "./dispatch.js";
import { deviceClassOf } from "./device-class.js";
import type { Device, DeviceComputeFigures } from "./devices.js";

export { deviceClassOf } from "./device-class.js";

/** The published-benchmark class a device is reported in (/evidence, the speed tests): GeForce and RTX workstation cards together. */
export function benchmarkClassOf(category: string): string {
  if (category === "nvidia-consumer" || category === "nvidia-workstation") return "NVIDIA consumer";
  if (category === "nvidia-datacenter") return "NVIDIA datacenter";
  if (category.startsWith("amd") || category === "apu") return "AMD";
  if (category.startsWith("apple")) return "Apple";
  if (category.startsWith("intel")) return "Intel";
  return "CPU";
}

const VENDORS = ["nvidia", "amd", "apple", "intel"] as const;
const vendorOf = (category: string): DeviceCompute["vendor"] => (category === "apu" ? "amd" : (VENDORS.find((v) => category.startsWith(v)) ?? "other"));

/** Figures as the speed model reads them; a board the runtime sees as several devices is one of them. */
function speedCompute(d: Device, c: DeviceComputeFigures): DeviceCompute {
  const share = 1 / c.logicalDevices;
  const per = (x: number | null) => (x === null ? undefined : x * share);
  const missing: Record<string, string> = {};
  const name = { fp16TensorTflops: "fp16Tensor", fp16Acc32Tflops: "fp16TensorAcc32", int8Tops: "int8Tensor", aluTflops: "alu", issueGhz: "issueRate" } as const;
  for (const [k, v] of Object.entries(c.missing)) missing[name[k as keyof typeof name] ?? k] = v;
  return {
    vendor: vendorOf(d.category),
    kernelFamily: c.kernelFamily,
    memoryClass: memoryClassOf(c.memType, c.kernelFamily),
    fp16Tensor: per(c.fp16TensorFlops),
    fp16TensorAcc32: per(c.fp16Acc32Flops),
    int8Tensor: per(c.int8Ops),
    alu: per(c.aluFlops),
    issueRate: per(c.issueRate),
    dies: c.dies,
    missing,
    ...(c.logicalDevices > 1 ? { notes: [`${d.name}: one of its ${c.logicalDevices} GCDs (the runtime sees each as a device; a single stream runs on one at a time)`] } : {}),
  };
}

/** A catalog device as placement plans on it: the memory its runtime reports (what `--device` means everywhere). */
export function placementDevice(d: Device): PlacementDevice {
  const share = 1 / d.compute.logicalDevices;
  return {
    id: d.id,
    name: d.name,
    driverName: d.driverName,
    memoryBytes: d.engineMemoryBytes,
    bandwidthBytesPerSecond: (d.bandwidthBytesPerSecond ?? 0) * share,
    deviceClass: deviceClassOf(d.category),
    compute: speedCompute(d, d.compute),
  };
}
