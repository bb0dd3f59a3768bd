// Vast.ai price plugin: live bundles search (public endpoint), shipped snapshot offline.
import type { PriceManifest } from "../price-util.js";
import { fetchWithTimeout, readSnapshot } from "../price-util.js";
import { parseVastOffers } from "./parse.js";

// Snapshot: vast-ai/vast-cli search.json@11ecdfa9 (19 of 1396 offers, committed 2024-11-05; SOURCES.txt).
const SNAPSHOT_DATE = "2024-11-05";

export const manifest: PriceManifest = {
  kind: "price",
  name: "price-vastai",
  version: "1.0.0",
  description: "Vast.ai marketplace offers (on-demand dph_total, interruptible min_bid)",
  provider: "vastai",
  snapshot: () => parseVastOffers(JSON.parse(readSnapshot(new URL("./snapshot.json", import.meta.url))), SNAPSHOT_DATE, "snapshot vast-cli search.json 2024-11-05"),
  async fetchOnline(timeoutMs) {
    const q = encodeURIComponent(JSON.stringify({ rentable: { eq: true }, type: "on-demand", limit: 500 }));
    const res = await fetchWithTimeout(`https://console.vast.ai/api/v0/bundles/?q=${q}`, {}, timeoutMs);
    return parseVastOffers(await res.json(), new Date().toISOString(), "online");
  },
};
