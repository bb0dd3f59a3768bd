// Catalog device -> what the speed and placement math needs.
import type { DeviceClass } from "../calc/index.js";
import type { PlacementDevice } from "./dispatch.js";
import type { Device } from "./devices.js";

/** Device class from the catalog category: the engine backend that drives it. */
export function deviceClassOf(category: string): DeviceClass {
  if (category.startsWith("nvidia")) return "cuda";
  if (category.startsWith("amd-")) return "rocm";
  if (category.startsWith("apple")) return "metal";
  if (category === "cpu" || category === "apu") return "cpu";
  return "other";
}

export function placementDevice(d: Device): PlacementDevice {
  return {
    id: d.id,
    name: d.name,
    memoryBytes: d.memoryBytes,
    bandwidthBytesPerSecond: d.bandwidthBytesPerSecond ?? 0,
    ...(d.fp16Tflops ? { flops16: d.fp16Tflops * 1e12 } : {}),
    deviceClass: deviceClassOf(d.category),
  };
}
