// Lambda Cloud price plugin: live API with LAMBDA_API_KEY; offline, the shipped SkyPilot Lambda catalog excerpt.
import type { PriceManifest } from "../price-util.js";
import { fetchWithTimeout } from "../price-util.js";
import { skypilotSnapshot } from "../price-skypilot/index.js";
import { parseLambdaInstanceTypes } from "./parse.js";

export const manifest: PriceManifest = {
  kind: "price",
  name: "price-lambda",
  version: "1.0.0",
  description: "Lambda Cloud on-demand instance prices",
  provider: "lambda",
  // SkyPilot's fetch_lambda_cloud.py builds its catalog from this same API (price_cents_per_hour / 100).
  snapshot: () => skypilotSnapshot("lambda").map((o) => ({ ...o, provider: "lambda" })),
  async fetchOnline(timeoutMs) {
    const key = process.env.LAMBDA_API_KEY;
    if (!key) throw new Error("LAMBDA_API_KEY not set");
    const res = await fetchWithTimeout("https://cloud.lambdalabs.com/api/v1/instance-types", { headers: { authorization: `Bearer ${key}` } }, timeoutMs);
    return parseLambdaInstanceTypes(await res.json(), new Date().toISOString(), "online");
  },
};
