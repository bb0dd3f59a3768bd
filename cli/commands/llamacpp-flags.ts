// llama.cpp deployment flags shared by plan, fit, speed and split, with llama.cpp's own names (common/arg.cpp:
// -ngl/--gpu-layers, -fa/--flash-attn on|off|auto, -b/--batch-size, -ub/--ubatch-size, -nkvo/--no-kv-offload,
// -sm/--split-mode, -ts/--tensor-split, --mmproj, --no-mmproj-offload, -md/--model-draft, --mmap/--no-mmap).
import type { Command } from "commander";
import { InputError } from "../../lib/calc/index.js";
import type { DeviceBuffers, EngineOptions } from "../../lib/calc/index.js";
import type { EngineDevice } from "../../lib/fleet/devices.js";
import { formatBytes } from "../output.js";
import { columns } from "../table.js";
import { deviceFromFlag } from "./shared.js";
import { engine } from "../../plugins/engines.js";
import { draftBuffers } from "../../plugins/engine-llamacpp/draft.js";
import { flagValue, strictNumber } from "../args.js";

export interface LlamaCppFlags {
  gpuLayers?: string;
  flashAttn?: string;
  batch?: string;
  ubatch?: string;
  kvOffload?: boolean;
  splitMode?: string;
  tensorSplit?: string;
  mmproj?: string;
  mmprojOffload?: boolean;
  draft?: string;
  mmap?: boolean;
  kvUnified?: boolean;
  backend?: string;
}

export function addLlamaCppOptions(cmd: Command): Command {
  return cmd
    .option("--backend <cuda|rocm|vulkan|metal|cpu>", "llama.cpp's backend (default: the device's own; cpu: a CPU-only build, no GPU buffers)")
    .option("--gpu-layers <n>", "llama.cpp -ngl: layer slots on the GPUs (the output layer first, then the last repeating layers); default all")
    .option("--flash-attn <on|off|auto>", "llama.cpp -fa (auto: on where the backend has it, as on CPU, CUDA, Metal, Vulkan)")
    .option("--batch <n>", "llama.cpp -b (logical batch, default 2048)")
    .option("--ubatch <n>", "llama.cpp -ub (physical batch, default 512): sizes the compute buffer")
    .option("--no-kv-offload", "llama.cpp -nkvo: keep the KV cache in host RAM")
    .option("--kv-unified", "llama.cpp -kvu: one KV stream of --context cells shared by all --seqs sequences")
    .option("--split-mode <layer|row|none>", "llama.cpp -sm over several GPUs (default layer)")
    .option("--tensor-split <a,b,…>", "llama.cpp -ts: proportions per GPU (default: by each GPU's memory)")
    .option("--mmproj <file>", "llama.cpp --mmproj: a projector GGUF, its buffer on the first GPU")
    .option("--no-mmproj-offload", "llama.cpp --no-mmproj-offload: the projector stays in host RAM")
    .option("--draft <gguf>", "llama.cpp -md: a draft model for speculative decoding (its weights, KV and compute)")
    .option("--mmap", "llama.cpp --mmap (default): host-resident weights are mapped from the page cache")
    .option("--no-mmap", "llama.cpp --no-mmap: host-resident weights are loaded into RAM");
}

const BACKENDS: Record<string, EngineOptions["llamaCppBackend"]> = { cuda: "CUDA", rocm: "ROCm", vulkan: "Vulkan", metal: "Metal", cpu: "CPU" };
const ON_OFF: Record<string, boolean | undefined> = { on: true, off: false, auto: undefined };

/** The engine options these flags set; any of them with an engine other than llama.cpp is bad input. */
export async function llamaCppOptions(flags: LlamaCppFlags, engineId: string, base: { context: number; seqs: number }): Promise<EngineOptions> {
  const o: EngineOptions = {};
  if (flags.gpuLayers !== undefined) {
    const n = strictNumber(flags.gpuLayers, "--gpu-layers");
    if (!Number.isInteger(n) || n < 0) throw new InputError(`--gpu-layers must be a whole number ≥ 0, got "${flags.gpuLayers}"`);
    o.gpuLayers = n;
  }
  if (flags.flashAttn !== undefined) {
    if (!(flags.flashAttn in ON_OFF)) throw new InputError(`--flash-attn must be on, off or auto, got "${flags.flashAttn}"`);
    const fa = ON_OFF[flags.flashAttn];
    if (fa !== undefined) o.flashAttention = fa;
  }
  if (flags.batch !== undefined) o.batch = flagValue("tokens", flags.batch, "--batch");
  if (flags.ubatch !== undefined) o.ubatch = flagValue("tokens", flags.ubatch, "--ubatch");
  if (flags.kvOffload === false) o.noKvOffload = true;
  if (flags.splitMode !== undefined) {
    if (!["layer", "row", "none"].includes(flags.splitMode)) throw new InputError(`--split-mode must be layer, row or none, got "${flags.splitMode}"`);
    o.splitMode = flags.splitMode as EngineOptions["splitMode"];
  }
  if (flags.tensorSplit !== undefined) {
    o.tensorSplit = flags.tensorSplit.split(/[,/]/).map((v) => strictNumber(v, "--tensor-split"));
    if (o.tensorSplit.some((x) => x < 0) || o.tensorSplit.every((x) => x === 0)) throw new InputError(`--tensor-split needs non-negative proportions, not all zero, got "${flags.tensorSplit}"`);
  }
  if (flags.mmap !== undefined) o.mmap = flags.mmap;
  if (flags.kvUnified) o.kvUnified = true;
  if (flags.backend !== undefined) {
    const b = BACKENDS[flags.backend.toLowerCase()];
    if (!b) throw new InputError(`--backend must be cuda, rocm, vulkan, metal or cpu, got "${flags.backend}"`);
    o.llamaCppBackend = b;
  }
  const { ggufTensorBytes, resolveGguf } = await import("../../loaders/gguf.js");
  if (flags.mmproj !== undefined) o.projector = { bytes: await ggufTensorBytes(flags.mmproj), offload: flags.mmprojOffload !== false };
  else if (flags.mmprojOffload === false) throw new InputError("--no-mmproj-offload needs --mmproj");
  if (flags.draft !== undefined) {
    const { model: draft } = await resolveGguf(flags.draft);
    o.draft = draftBuffers(draft, { context: base.context, seqs: base.seqs, options: o }, engine("llama.cpp"));
  }
  if (Object.keys(o).length && engineId !== "llama.cpp") throw new InputError(`--gpu-layers, --flash-attn, --batch, --ubatch, --no-kv-offload, --split-mode, --tensor-split, --mmproj, --draft, --mmap, --kv-unified and --backend are llama.cpp options (engine is ${engineId})`);
  return o;
}

/** --device a,b,…: llama.cpp's GPUs in order (the first is the main GPU and the deployment's device). */
export function devicesFromFlag(ref: string | undefined, wiredLimitMb?: string): { device?: EngineDevice; gpus?: EngineDevice[] } {
  if (ref === undefined || !ref.includes(",")) return { device: deviceFromFlag(ref, wiredLimitMb) };
  const gpus = ref.split(",").map((id) => deviceFromFlag(id.trim(), wiredLimitMb)!);
  return { device: gpus[0], gpus };
}

/** The per-device buffer table of a plan, as llama.cpp prints its buffers. */
export function bufferLines(rows: DeviceBuffers[]): string[] {
  const head = ["device", "layers", "model", "KV", "compute", "output", "projector", "draft"];
  const body = rows.map((r) => [
    r.device === "CPU" ? `host${r.mapped ? " (mapped)" : ""}` : r.device,
    `${r.layers}${r.output ? "+out" : ""}`,
    ...[r.modelBytes, r.kvBytes, r.computeBytes, r.outputBytes, r.projectorBytes, r.draftBytes].map((b) => (b ? formatBytes(b) : "-")),
  ]);
  return columns([head, ...body]);
}
