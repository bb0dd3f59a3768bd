// Data loader: the device catalog, exactly what `hwledger devices --json` prints.
import { catalogDevices } from "../../lib/fleet/devices.js";

process.stdout.write(JSON.stringify(catalogDevices()));
