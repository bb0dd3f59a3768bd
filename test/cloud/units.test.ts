// The pure parts of renting: spending limits, reconciliation of the ledger with the providers' lists, candidate
// ids, and each plugin's reading of its provider's real/documented bodies (test/fixtures/cloud-api, SOURCES.md).
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bill } from "../../lib/fleet/billing.js";
import { dispatchCandidates } from "../../lib/fleet/candidates.js";
import { catalogDevices } from "../../lib/fleet/devices.js";
import { makeEvent } from "../../lib/fleet/events.js";
import type { Offer } from "../../lib/fleet/offers.js";
import { committedToday, labelFor, parseOfferCandidateId, planRental, reconcile } from "../../lib/fleet/rent.js";
import { makeDeployment } from "../../lib/calc/index.js";
import { ENGINES, engine } from "../../plugins/engines.js";
import { resolveModel } from "../../loaders/models.js";
import { discoverPlugins } from "../../plugins/index.js";
import { CloudInputError, CloudRuntimeError } from "../../plugins/cloud-contract.js";
import { retryAfterSeconds } from "../../plugins/cloud-http.js";
import type { HttpAnswer } from "../../plugins/cloud-http.js";
import { readKey, tomlString } from "../../plugins/cloud-keys.js";
import { redact } from "../../plugins/redact.js";
import * as vast from "../../plugins/cloud-vastai/parse.js";
import * as runpod from "../../plugins/cloud-runpod/parse.js";
import * as lambda from "../../plugins/cloud-lambda/parse.js";
import { manifest as vastManifest } from "../../plugins/cloud-vastai/index.js";
import { manifest as runpodManifest } from "../../plugins/cloud-runpod/index.js";
import { fixture } from "../helpers/standin/core.js";

const answer = (status: number, json: unknown): HttpAnswer => ({ status, json, text: JSON.stringify(json) });
const now = new Date("2026-12-02T12:00:00.000Z");

describe("spending limits", () => {
  const terms = { perHour: 2, instanceLimitUsd: 5, dailyLimitUsd: 20, maxHours: 2, committedTodayUsd: 0, now };
  it("the tightest guard sets the deadline", () => {
    expect(planRental(terms)).toMatchObject({ hours: 2, limitUsd: 4, boundBy: "max hours", deadline: new Date("2026-12-02T14:00:00.000Z") });
    expect(planRental({ ...terms, perHour: 4 })).toMatchObject({ hours: 1.25, limitUsd: 5, boundBy: "instance limit" });
    expect(planRental({ ...terms, committedTodayUsd: 18 })).toMatchObject({ hours: 1, limitUsd: 2, boundBy: "daily limit" });
  });
  it("less than five minutes is refused as bad input", () => {
    expect(() => planRental({ ...terms, committedTodayUsd: 19.9 })).toThrow(/daily spending limit \$20\.00 leaves \$0\.10 \(\$19\.90 spent or committed today\): 3 min/);
    expect(() => planRental({ ...terms, perHour: 100 })).toThrow(/allow only 3 min at \$100\.000\/h; raise --spend-limit or --max-hours/);
    expect(() => planRental({ ...terms, maxHours: 0 })).toThrow(/--max-hours must be positive/);
  });
});

describe("reconciling the ledger with the providers", () => {
  const at = (ts: string) => ({ host: "desk", ts });
  const requested = (intentId: string, ts: string) =>
    makeEvent("instance_requested", { intentId, provider: "vastai", offerId: "1", label: labelFor(intentId), perHour: 1, deadline: "2026-12-02T14:00:00.000Z", limitUsd: 2 }, at(ts));
  const A = "01KBE0000000000000000000AA";
  const B = "01KBE0000000000000000000BB";
  const events = [
    requested(A, "2026-12-02T10:00:00.000Z"),
    makeEvent("instance_running", { intentId: A, provider: "vastai", instanceId: "11", ssh: { host: "h", port: 22, user: "root" } }, at("2026-12-02T10:05:00.000Z")),
    requested(B, "2026-12-02T11:00:00.000Z"),
  ];
  const live = (state: "running" | "pending", id: string, intent: string) => ({ provider: "vastai", instanceId: id, label: labelFor(intent), state, providerState: state });

  it("an intent the ledger has no instance for is matched by its tag; one the provider no longer lists is gone", () => {
    const r = reconcile(events, new Map([["vastai", [live("pending", "22", B)]]]), now);
    expect(r.map((x) => [x.intentId, x.instanceId, x.state])).toEqual([[A, "11", "gone"], [B, "22", "pending"]]);
    expect(r[1].costUsd).toBeCloseTo(1, 10); // 1/h since 11:00, rate × duration so far
  });
  it("without the provider's list the ledger's view stands; a tagged instance the ledger lacks is listed as untracked", () => {
    expect(reconcile(events, new Map([["vastai", null]]), now).map((x) => x.state)).toEqual(["running", "requested"]);
    const stray = reconcile([], new Map([["vastai", [live("running", "33", "01KBE0000000000000000000CC")]]]), now);
    expect(stray).toMatchObject([{ instanceId: "33", state: "running", untracked: true }]);
  });
  it("a stopped rental counts its recorded cost toward the day, a live one its whole limit", () => {
    const stopped = [
      ...events,
      makeEvent("instance_stopped", { intentId: A, provider: "vastai", instanceId: "11", reason: "done" }, at("2026-12-02T10:30:00.000Z")),
      makeEvent("cost_recorded", { amount: 0.5, currency: "USD", basis: "vastai charges instance-11", intentId: A }, { host: "vastai-11", ts: "2026-12-02T10:30:01.000Z" }),
    ];
    const r = reconcile(stopped, new Map(), now);
    expect(r[0]).toMatchObject({ state: "terminated", costUsd: 0.5, costBasis: "vastai charges instance-11" });
    expect(committedToday(r, now)).toBeCloseTo(0.5 + 2, 10);
  });
});

describe("dispatch candidate ids name the offer", () => {
  it("every offer candidate id dispatchCandidates builds parses back to its provider and offer id", async () => {
    const offers: Offer[] = [
      ...vastManifest.snapshotOffers(),
      ...runpodManifest.snapshotOffers(),
      { provider: "lambda", offerId: "gpu_1x_a100_sxm4", gpuName: "A100 (40 GB SXM4)", deviceId: "a100-sxm4-40gb", gpuCount: 1, onDemandPerHour: 1.29, region: "us-east-1", quotedAt: "x", source: "x" },
    ];
    const { model } = await resolveModel("meta-llama/Llama-3.1-8B-Instruct");
    const base = makeDeployment(model, { engine: engine("vllm"), context: 4096, seqs: 1 });
    const cands = dispatchCandidates({ catalog: catalogDevices(), fleet: [], offers, purchases: [], base, engines: ENGINES, fixedEngine: false, spot: false, lifespanYears: 4, utilization: 0.5, electricityPerKwh: 0.2 }).filter((c) => c.source === "offer");
    expect(cands.length).toBeGreaterThan(20);
    for (const c of cands) {
      const ref = parseOfferCandidateId(c.id)!;
      expect(offers.some((o) => o.provider === ref.provider && o.offerId === ref.offerId && o.provider === c.provider), c.id).toBe(true);
    }
  });
});

describe("provider bodies", () => {
  it("Vast.ai: loading is pending; the captured running instance is reached through its SSH proxy; outbid is a paused bid", () => {
    expect(vast.toLive(vast.vastInstanceSchema.parse({ id: 1, ...fixture("vast/show_instance.response.loading.hello-world.docs.json").instances }), "root")).toMatchObject({ state: "pending", providerState: "loading" });
    const run = vast.toLive(vast.vastInstanceSchema.parse(fixture("vast/show_instance.response.running.captured-excerpt.json").instances), "root");
    expect(run).toMatchObject({ instanceId: "36717044", state: "running", perHour: 0.3518518518518518, ssh: { host: "ssh7.vast.ai", port: 37044, user: "root" } });
    const doc = vast.vastInstanceSchema.parse(fixture("vast/show_instance.response.assembled-from-field-examples.docs.json").instances);
    expect(vast.toLive(doc, "root").ssh).toEqual({ host: "ssh2281.vast.ai", port: 10882, user: "root" });
    expect(vast.vastState({ ...doc, actual_status: "stopped", is_bid: true, intended_status: "running" })).toBe("outbid");
    expect(vast.vastState({ ...doc, actual_status: "stopped", is_bid: false, intended_status: "stopped" })).toBe("stopped");
  });
  it("RunPod: the v2 pod examples (PROVISIONING without ssh, RUNNING with ssh.direct)", () => {
    expect(runpod.toLive(runpod.podSchema.parse(fixture("runpod/rest-v2.create-pod.response-201.openapi-example.docs.json")), "root")).toMatchObject({ state: "pending", providerState: "PROVISIONING" });
    expect(runpod.toLive(runpod.podSchema.parse(fixture("runpod/rest-v2.get-pod.response-200.openapi-example.docs.json")), "root")).toMatchObject({
      state: "running",
      perHour: 0.44,
      ssh: { host: "195.26.233.3", port: 34446, user: "root" },
    });
  });
  it("Lambda: an active instance answers SSH on its IP, port 22, as ubuntu; its price in dollars", () => {
    const i = lambda.lambdaInstanceSchema.parse({ ...fixture("lambda/instance.get.response.assembled-from-official-field-examples.json").data, status: "active" });
    expect(lambda.toLive(i, "ubuntu")).toMatchObject({ state: "running", perHour: 35.92, ssh: { host: "198.51.100.2", port: 22, user: "ubuntu" } });
  });
  it("errors: refused keys are bad input, capacity refusals are runtime failures, each provider's own words kept", () => {
    const put = { method: "PUT" as const, path: "/api/v0/asks/1/" };
    const e404 = vast.classify(answer(404, fixture("vast/error.404.invalid-api-key.show_invoices.openapi-example.docs.json")), put);
    expect(e404).toBeInstanceOf(CloudInputError);
    expect((e404 as CloudInputError).code).toBe("bad-key");
    expect((vast.classify(answer(410, fixture("vast/create_instance.responses.assembled-from-field-examples.docs.json")["410"]), put) as CloudRuntimeError).code).toBe("no-capacity");
    expect((vast.classify(answer(404, fixture("vast/create_instance.responses.assembled-from-field-examples.docs.json")["404"]), put) as CloudInputError).code).toBe("unknown-offer");
    const pods = { method: "POST" as const, path: "/v2/pods" };
    expect(runpod.classify(answer(400, fixture("runpod/rest-v2.error.400-capacity.runpod-launcher-test.claimed-real.json")), pods)).toBeInstanceOf(CloudRuntimeError);
    const gql = runpod.classify(answer(200, fixture("runpod/error.graphql.SUPPLY_CONSTRAINT.claimed-captured.unidentified-repo.json")), { method: "POST", path: "/graphql" });
    expect((gql as CloudRuntimeError).code).toBe("no-capacity");
    expect((runpod.classify(answer(401, fixture("runpod/rest-v2.error.401.openapi-example.docs.json")), pods) as CloudInputError).code).toBe("bad-key");
    const errs = fixture("lambda/errors.official-spec-defaults.via-speakeasy-sdk.json");
    const launch = { method: "POST" as const, path: "/api/v1/instance-operations/launch" };
    expect((lambda.classify(answer(400, { error: errs.APIErrorInsufficientCapacity }), launch) as CloudRuntimeError).message).toBe("Lambda Cloud: no capacity: Not enough capacity to fulfill launch request.");
    expect((lambda.classify(answer(401, { error: errs.APIErrorUnauthorized }), launch) as CloudInputError).code).toBe("bad-key");
  });
  it("Retry-After as seconds or an HTTP date", () => {
    expect(retryAfterSeconds("12")).toBe(12);
    expect(retryAfterSeconds("Wed, 02 Dec 2026 12:00:30 GMT", now.getTime())).toBe(30);
    expect(retryAfterSeconds(null)).toBeUndefined();
  });
});

describe("keys", () => {
  it("RunPod's config.toml as runpod-python ([default] api_key) and runpodctl (apikey) write it", () => {
    const parse = runpodManifest.keySource.parse;
    expect(parse('[default]\napi_key = "rpa_ONE"\n', "")).toBe("rpa_ONE");
    expect(parse('apikey = "rpa_TWO"\napiurl = "https://api.runpod.io/graphql"\n', "")).toBe("rpa_TWO");
    expect(tomlString('[other]\napi_key = "x"\n', "default", "api_key")).toBeUndefined();
  });
  it("the environment wins over the provider's file; files resolve under HOME and are shown as ~/…", () => {
    const home = mkdtempSync(join(tmpdir(), "hwledger-keys-"));
    mkdirSync(join(home, ".config", "vastai"), { recursive: true });
    writeFileSync(join(home, ".config", "vastai", "vast_api_key"), "from-the-file-123\n");
    const src = vastManifest.keySource;
    expect(readKey(src, { HOME: home })).toEqual({ key: "from-the-file-123", from: "~/.config/vastai/vast_api_key" });
    expect(readKey(src, { HOME: home, VAST_API_KEY: "from-env-456" })).toEqual({ key: "from-env-456", from: "$VAST_API_KEY" });
    writeFileSync(join(home, ".vast_api_key"), "legacy-789\n");
    expect(readKey(src, { HOME: home, XDG_CONFIG_HOME: join(home, "nowhere") })).toEqual({ key: "legacy-789", from: "~/.vast_api_key" });
    expect(redact("key from-the-file-123 and legacy-789 and " + encodeURIComponent("from-env-456"))).toBe("key [redacted] and [redacted] and [redacted]");
  });
});

describe("plugins and billing", () => {
  it("three cloud plugins are discovered by their prefix and their manifests validate", async () => {
    expect((await discoverPlugins("cloud")).map((p) => [p.folder, (p.manifest as { provider?: string }).provider])).toEqual([
      ["cloud-lambda", "lambda"],
      ["cloud-runpod", "runpod"],
      ["cloud-vastai", "vastai"],
    ]);
  });
  it("a rented instance is billed at its recorded cost, and the basis says what it was", () => {
    const [row] = bill([{ device: "vastai-1", period: "2026-12-02", jobs: 1, busySeconds: 60, tokens: 0, recordedCost: 0.2, recordedBasis: "vastai charges instance-1" }], () => undefined);
    expect(row).toMatchObject({ cost: 0.2, basis: "recorded: vastai charges instance-1" });
  });
});
