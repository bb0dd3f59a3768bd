// RunPod price plugin: live GraphQL gpuTypes with an API key (RUNPOD_API_KEY), shipped snapshot offline.
import type { PriceManifest } from "../price-util.js";
import { fetchWithTimeout, readSnapshot } from "../price-util.js";
import { parseRunpodGpuTypes } from "./parse.js";

// Snapshot: Jumbo2020/gpu_prices gpu_prices.json@13a47f94, written by its hourly action on 2025-06-21 (SOURCES.txt).
const SNAPSHOT_DATE = "2025-06-21";

const QUERY = "{ gpuTypes { id displayName memoryInGb maxGpuCount secureCloud communityCloud securePrice communityPrice communitySpotPrice secureSpotPrice } }";

export const manifest: PriceManifest = {
  kind: "price",
  name: "price-runpod",
  version: "1.0.0",
  description: "RunPod on-demand and spot prices per GPU type",
  provider: "runpod",
  snapshot: () => parseRunpodGpuTypes(JSON.parse(readSnapshot(new URL("./snapshot.json", import.meta.url))), SNAPSHOT_DATE, "snapshot runpod gpuTypes 2025-06-21"),
  async fetchOnline(timeoutMs) {
    const key = process.env.RUNPOD_API_KEY;
    if (!key) throw new Error("RUNPOD_API_KEY not set");
    const res = await fetchWithTimeout(`https://api.runpod.io/graphql?api_key=${encodeURIComponent(key)}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: QUERY }) }, timeoutMs);
    const body = (await res.json()) as { data?: { gpuTypes?: unknown } };
    return parseRunpodGpuTypes(body.data?.gpuTypes, new Date().toISOString(), "online");
  },
};
