// Catalog device -> what the speed and placement math needs.
import type { PlacementDevice } from "./dispatch.js";
import { deviceClassOf } from "./device-class.js";
import type { Device } from "./devices.js";

export { deviceClassOf } from "./device-class.js";

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
