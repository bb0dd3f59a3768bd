// SkyPilot catalog price plugin (AWS, GCP, Lambda, RunPod vms.csv): live from the public catalog repository,
// shipped excerpts offline.
import type { Offer } from "../../lib/fleet/offers.js";
import type { PriceManifest } from "../price-util.js";
import { fetchWithTimeout, readSnapshot } from "../price-util.js";
import { parseSkypilotCsv } from "./parse.js";

// Snapshots: skypilot-org/skypilot-catalog catalogs/v7/<cloud>/vms.csv excerpts (commits in SOURCES.txt).
const CLOUDS = ["aws", "gcp", "lambda", "runpod"] as const;
// Lambda and RunPod have their own plugins (price-lambda uses this Lambda excerpt offline); listing them here too
// would count their offers twice.
const OWN_CLOUDS = ["aws", "gcp"] as const;
const SNAPSHOT_DATE = "2025-06";

export function skypilotSnapshot(cloud: (typeof CLOUDS)[number]): Offer[] {
  return parseSkypilotCsv(readSnapshot(new URL(`./snapshot-${cloud}.csv`, import.meta.url)), cloud, SNAPSHOT_DATE, `snapshot skypilot-catalog v7/${cloud}/vms.csv`);
}

export const manifest: PriceManifest = {
  kind: "price",
  name: "price-skypilot",
  version: "1.0.0",
  description: "SkyPilot catalog format: AWS and GCP instance types, on-demand and spot",
  provider: "skypilot",
  snapshot: () => OWN_CLOUDS.flatMap((c) => skypilotSnapshot(c)),
  async fetchOnline(timeoutMs) {
    const out: Offer[] = [];
    for (const c of OWN_CLOUDS) {
      const res = await fetchWithTimeout(`https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v7/${c}/vms.csv`, {}, timeoutMs);
      out.push(...parseSkypilotCsv(await res.text(), c, new Date().toISOString(), "online"));
    }
    return out;
  },
};
