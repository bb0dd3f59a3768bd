// Data loader: every catalog device as an engine sees it (lib/fleet/devices.ts engineDevice, what `--device` reads):
// the memory its runtime reports and the driver's name, beside the catalog's category and bandwidth. The capacity
// pages plan on these, so a device id means the same memory on a page as in `hwledger fit --device`.
import { catalogDevices, engineDevice } from "../../lib/fleet/devices.js";

process.stdout.write(
  JSON.stringify(catalogDevices().map((d) => ({ ...engineDevice(d.id), category: d.category, bandwidthBytesPerSecond: d.bandwidthBytesPerSecond }))),
);
