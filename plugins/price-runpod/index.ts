// RunPod price plugin: live GraphQL gpuTypes with an API key (RUNPOD_API_KEY), shipped snapshot offline. The key goes
// in an Authorization: Bearer header, as RunPod's own SDK sends it (runpod-python runpod/api/graphql.py
// run_graphql_query), never in the URL's query string where it would be logged and echoed in errors.
import type { PriceManifest } from "../price-util.js";
import { fetchWithTimeout, readSnapshot, redacted } from "../price-util.js";
import { parseRunpodGpuTypes } from "./parse.js";

// Snapshot: Jumbo2020/gpu_prices gpu_prices.json@13a47f94, written by its hourly action on 2025-06-21 (SOURCES.md).
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
    const res = await fetchWithTimeout("https://api.runpod.io/graphql", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify({ query: QUERY }) }, timeoutMs);
    const body = (await res.json()) as { data?: { gpuTypes?: unknown }; errors?: Array<{ message?: string }> };
    // GraphQL reports failures in errors[] with HTTP 200 (run_graphql_query raises errors[0].message).
    if (body.errors?.length) throw new Error(redacted(`RunPod GraphQL: ${String(body.errors[0]?.message ?? "error").split("\n")[0]}`));
    return parseRunpodGpuTypes(body.data?.gpuTypes, new Date().toISOString(), "online");
  },
};
