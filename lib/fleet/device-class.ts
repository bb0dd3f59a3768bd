// The engine backend that drives a catalog device, from its category. Pure: the pages import it too.
import type { DeviceClass } from "../calc/index.js";

export function deviceClassOf(category: string): DeviceClass {
  if (category.startsWith("nvidia")) return "cuda";
  if (category.startsWith("amd-")) return "rocm";
  if (category.startsWith("apple")) return "metal";
  if (category === "cpu" || category === "apu") return "cpu";
  return "other";
}
