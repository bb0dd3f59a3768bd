// Lambda Cloud provider plugin: instance types and prices (parsed by the Lambda price plugin's parser), launch,
// status, SSH address, terminate. Lambda has no billing API: cost is rate × duration. The key goes in
// `Authorization: Bearer` (the spec's recommended scheme); it is read from $LAMBDA_API_KEY only, as Lambda
// documents no config file of its own.
import type { CloudContext, CloudProvider, CreateRequest } from "../cloud-contract.js";
import { CloudInputError, CloudRuntimeError, checkInstance } from "../cloud-contract.js";
import { bearer, cloudRequest, taggedRows } from "../cloud-http.js";
import type { HttpCall } from "../cloud-http.js";
import { manifest as price } from "../price-lambda/index.js";
import { parseLambdaInstanceTypes } from "../price-lambda/parse.js";
import { TITLE, classify, instanceAnswerSchema, launchAnswerSchema, lambdaInstanceSchema, listAnswerSchema, parseWith, toLive } from "./parse.js";

const style = { title: TITLE, auth: bearer, classify };
const call = (ctx: CloudContext, c: HttpCall) => cloudRequest(ctx, style, c);
const SSH_USER = "ubuntu";

async function searchOffers(ctx: CloudContext, filter: { gpuCount?: number; offerId?: string }) {
  const a = await call(ctx, { method: "GET", path: "/api/v1/instance-types" });
  const offers = parseLambdaInstanceTypes(a.json, new Date().toISOString(), "online");
  return offers.filter((o) => (!filter.offerId || o.offerId === filter.offerId) && (!filter.gpuCount || o.gpuCount === filter.gpuCount));
}

async function create(ctx: CloudContext, req: CreateRequest): Promise<string> {
  if (req.bidPerHour !== undefined) throw new CloudInputError("unsupported", `${TITLE} has no spot instances; drop --spot`);
  if (!req.sshKeyName) throw new CloudInputError("bad-request", `${TITLE} launches need an SSH key registered with Lambda: pass --ssh-key-name NAME`);
  // parseLambdaInstanceTypes puts the first region with capacity in Offer.region; none means none has capacity.
  if (!req.offer.region) throw new CloudRuntimeError("no-capacity", `${TITLE}: no capacity: no region has ${req.offer.offerId} available`);
  // launch request (Lambda docs): region_name, instance_type_name, ssh_key_names, file_system_names, quantity, name.
  const body = { region_name: req.offer.region, instance_type_name: req.offer.offerId, ssh_key_names: [req.sshKeyName], file_system_names: [], quantity: 1, name: req.label };
  const a = await call(ctx, { method: "POST", path: "/api/v1/instance-operations/launch", body });
  return parseWith(launchAnswerSchema, a, "launch").data.instance_ids[0];
}

async function get(ctx: CloudContext, id: string) {
  const a = await call(ctx, { method: "GET", path: `/api/v1/instances/${encodeURIComponent(id)}`, accept: [404] });
  if (a.status === 404) return null;
  return checkInstance(TITLE, toLive(parseWith(instanceAnswerSchema, a, "instance").data, SSH_USER));
}

async function listTagged(ctx: CloudContext) {
  const a = await call(ctx, { method: "GET", path: "/api/v1/instances" });
  return taggedRows(parseWith(listAnswerSchema, a, "instances").data, lambdaInstanceSchema, (i) => i.name, (i) => checkInstance(TITLE, toLive(i, SSH_USER)));
}

async function destroy(ctx: CloudContext, id: string): Promise<"destroyed" | "gone"> {
  // terminate request {instance_ids}; answer {data: {terminated_instances}}; an unknown id is object-does-not-exist.
  const a = await call(ctx, { method: "POST", path: "/api/v1/instance-operations/terminate", body: { instance_ids: [id] }, accept: [404] });
  return a.status === 404 ? "gone" : "destroyed";
}

export const manifest: CloudProvider = {
  kind: "cloud",
  name: "cloud-lambda",
  version: "1.0.0",
  description: "Rent Lambda Cloud instances: launch, status, SSH, terminate (cost: rate × duration)",
  provider: "lambda",
  title: TITLE,
  defaultBaseUrl: "https://cloud.lambda.ai",
  baseUrlEnv: "HWLEDGER_LAMBDA_URL",
  keySource: { env: "LAMBDA_API_KEY", files: [], parse: () => undefined },
  offersNeedKey: true,
  sshUser: SSH_USER,
  searchOffers,
  snapshotOffers: () => price.snapshot(),
  create,
  get,
  listTagged,
  destroy,
};
