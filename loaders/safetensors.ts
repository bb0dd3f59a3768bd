// Checkpoint weights from safetensors headers, parsed by @huggingface/hub's parseSafetensorsMetadata (range
// requests: only the headers are read). Online for an HF id; for a local folder the same parser reads the files
// through a fetch that serves them from disk, so one parser handles both.
import { existsSync, openSync, readSync, closeSync, statSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { InputError } from "../lib/calc/index.js";
import type { CheckpointWeights, ModelSpec } from "../lib/calc/index.js";

type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;

const LOCAL_HUB = "http://local-checkpoint.invalid";
const VISION = /(^|\.)(vision_tower|vision_model|visual|vision|mm_projector|multi_modal_projector|image_newline)(\.|$)/;
const BLOCK = /(?:^|\.)(?:layers|h|blocks|block)\.(\d+)\./;

/** A fetch that answers the hub's HEAD and ranged GET requests from files under `root` (nothing leaves the machine). */
export function localHubFetch(root: string): typeof fetch {
  const base = resolve(root);
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? String(input) : input.url);
    const m = /\/(?:raw|resolve)\/[^/]+\/(.+)$/.exec(decodeURIComponent(url.pathname));
    const file = m ? resolve(base, m[1]) : "";
    if (!m || !file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile()) return new Response("not found", { status: 404 });
    const size = statSync(file).size;
    const headers = { "accept-ranges": "bytes", etag: `"${size}"`, "content-type": "application/octet-stream" };
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    if (method === "HEAD") return new Response(null, { status: 200, headers: { ...headers, "content-length": String(size) } });
    const range = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).get("range");
    const r = range ? /bytes=(\d+)-(\d*)/.exec(range) : null;
    const start = r ? Number(r[1]) : 0;
    const end = r && r[2] ? Math.min(Number(r[2]), size - 1) : size - 1;
    const buf = Buffer.alloc(Math.max(0, end - start + 1));
    const fd = openSync(file, "r");
    try {
      readSync(fd, buf, 0, buf.length, start);
    } finally {
      closeSync(fd);
    }
    return new Response(buf, {
      status: r ? 206 : 200,
      headers: { ...headers, "content-length": String(buf.length), ...(r ? { "content-range": `bytes ${start}-${end}/${size}` } : {}) },
    });
  }) as typeof fetch;
}

/** Reads the headers of an HF repo (online) or a local folder and groups the bytes by block. */
export async function readCheckpoint(ref: string, model: ModelSpec, opts: { hubUrl?: string; fetch?: typeof fetch; revision?: string } = {}): Promise<CheckpointWeights> {
  const { parseSafetensorsMetadata } = await import("@huggingface/hub");
  const local = existsSync(ref) && statSync(ref).isDirectory();
  if (!local && process.env.HWLEDGER_OFFLINE && !opts.fetch) throw new InputError(`${ref}: reading safetensors headers from the HF hub needs the network (offline mode is on); give a local folder`);
  let meta;
  try {
    meta = await parseSafetensorsMetadata({
      repo: { type: "model", name: local ? "local/checkpoint" : ref },
      computeParametersCount: true,
      ...(local ? { hubUrl: LOCAL_HUB, fetch: localHubFetch(ref) } : { hubUrl: opts.hubUrl, fetch: opts.fetch }),
      revision: opts.revision,
      accessToken: process.env.HF_TOKEN,
    });
  } catch (e) {
    throw new InputError(`${ref}: cannot read safetensors headers (${(e as Error).message.split("\n")[0]})`);
  }
  const headers: Array<[string, Header]> = meta.sharded ? Object.entries(meta.headers as Record<string, Header>) : [[meta.filepaths[0], meta.header as Header]];
  const perLayerBytes = new Array<number>(model.layers.length).fill(0);
  let otherBytes = 0;
  let visionBytes = 0;
  for (const [, header] of headers) {
    for (const [name, info] of Object.entries(header)) {
      if (name === "__metadata__" || !("data_offsets" in info)) continue;
      const bytes = (info.data_offsets as [number, number])[1] - (info.data_offsets as [number, number])[0];
      const block = BLOCK.exec(name);
      if (VISION.test(name)) visionBytes += bytes;
      else if (block && Number(block[1]) < perLayerBytes.length) perLayerBytes[Number(block[1])] += bytes;
      else otherBytes += bytes;
    }
  }
  const totalBytes = perLayerBytes.reduce((a, b) => a + b, 0) + otherBytes + visionBytes;
  return { perLayerBytes, otherBytes, visionBytes, totalBytes, paramsByDtype: (meta.parameterCount ?? {}) as Record<string, number>, files: meta.filepaths.map((f) => (local ? join(ref, f) : f)) };
}
