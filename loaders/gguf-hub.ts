// `--gguf org/repo[:quant|:file]`: a GGUF on the Hugging Face hub, resolved to its resolve/ URL so that only its header
// is read (HTTP range requests, loaders/gguf.ts). The endpoint is HF_ENDPOINT (huggingface_hub's variable), else
// huggingface.co. Naming follows llama.cpp's -hf (common/arg.cpp --hf-repo: "<user>/<model>[:quant]; quant is optional,
// case-insensitive, default to Q4_K_M, or falls back to the first file in the repo if Q4_K_M doesn't exist").
import { existsSync } from "node:fs";
import { InputError } from "../lib/calc/index.js";

const REF = /^([\w.-]+\/[\w.-]+)(?::([^\s:]+))?$/;
const LIST_TIMEOUT_MS = 8000;

export interface HubGgufRef {
  repo: string;
  /** A file path in the repo (ends in .gguf). */
  file?: string;
  /** A quantization tag (Q4_K_M, iq4_xs, …) matched against the repo's GGUF file names. */
  tag?: string;
}

/** `org/repo`, `org/repo:Q4_K_M` or `org/repo:path/file.gguf` that is not a local path. */
export function parseHubGgufRef(ref: string): HubGgufRef | undefined {
  if (existsSync(ref)) return undefined;
  const m = REF.exec(ref.trim());
  if (!m || /\.gguf$/i.test(m[1])) return undefined;
  const [, repo, rest] = m;
  if (!rest) return { repo };
  return /\.gguf$/i.test(rest) ? { repo, file: rest } : { repo, tag: rest };
}

export function hubEndpoint(): string {
  return (process.env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
}

const resolveUrl = (repo: string, file: string) => `${hubEndpoint()}/${repo}/resolve/main/${file.split("/").map(encodeURIComponent).join("/")}`;

/** The first file of a split set stands for the set (`-00001-of-0000N`); mmproj files are projectors, not models. */
function modelFiles(paths: string[]): string[] {
  return paths.filter((p) => /\.gguf$/i.test(p) && !/mmproj/i.test(p) && !/-(?!00001-)\d{5}-of-\d{5}\.gguf$/i.test(p)).sort();
}

/** The file llama.cpp's -hf would load: the tag's file, else Q4_K_M's, else the first. */
export function pickGgufFile(repo: string, paths: string[], tag?: string): string {
  const files = modelFiles(paths);
  if (!files.length) throw new InputError(`${repo}: the repo has no GGUF file`);
  const has = (t: string) => files.filter((f) => f.split("/").pop()!.toLowerCase().includes(t.toLowerCase()));
  if (tag) {
    const m = has(tag);
    if (!m.length) throw new InputError(`${repo}: no GGUF file matches "${tag}" (have: ${files.map((f) => f.split("/").pop()).join(", ")})`);
    return m[0];
  }
  return has("Q4_K_M")[0] ?? files[0];
}

/** The resolve/ URL of the GGUF `ref` names; lists the repo's files (hub API tree) when no file is given. */
export async function resolveHubGguf(ref: string, h: HubGgufRef): Promise<string> {
  if (process.env.HWLEDGER_OFFLINE) throw new InputError(`${ref}: reading a GGUF header from the HF hub needs the network (offline mode is on); give a local file`);
  if (h.file) return resolveUrl(h.repo, h.file);
  const url = `${hubEndpoint()}/api/models/${h.repo}/tree/main?recursive=true`;
  let res: Response;
  try {
    res = await fetch(url, { headers: process.env.HF_TOKEN ? { authorization: `Bearer ${process.env.HF_TOKEN}` } : {}, signal: AbortSignal.timeout(LIST_TIMEOUT_MS) });
  } catch (e) {
    throw new InputError(`${ref}: cannot list the repo's files on the HF hub (${(e as Error).message.split("\n")[0]})`);
  }
  if (!res.ok) throw new InputError(`${ref}: HTTP ${res.status} listing the repo's files on the HF hub`);
  const list = (await res.json().catch(() => undefined)) as Array<{ type?: string; path?: string }> | undefined;
  if (!Array.isArray(list)) throw new InputError(`${ref}: the HF hub's file list is not JSON`);
  return resolveUrl(h.repo, pickGgufFile(h.repo, list.filter((e) => e.type !== "directory" && typeof e.path === "string").map((e) => e.path!), h.tag));
}
