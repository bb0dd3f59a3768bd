// llama.cpp deployment flags on the CLI: a projector and a draft model enter the per-device buffers, mmap marks the
// host's weights, and bad input is one line and exit 2.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveGguf } from "../../loaders/gguf.js";
import { runCli, runCliJson } from "../helpers/cli.js";
import { tinyModel, writeGguf } from "../helpers/gguf-writer.js";

const dir = mkdtempSync(join(tmpdir(), "hwledger-offload-flags-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gguf(name: string, nLayer: number, nEmbd: number): string {
  const { metadata, tensors } = tinyModel({ arch: "llama", nLayer, nEmbd, nHead: 4, nHeadKv: 2, headDim: nEmbd / 4, nFf: 2 * nEmbd });
  const file = join(dir, name);
  writeGguf(file, metadata, tensors);
  return file;
}

interface Row { device: string; modelBytes: number; kvBytes: number; computeBytes: number; projectorBytes: number; draftBytes: number; layers: number; output: boolean; mapped?: boolean }
interface PlanJson { memory: { weightsBytes: number; kvCacheBytes: number; activationBytes: number; overheadBytes: number }; buffers: Row[] }

describe("llama.cpp offload flags", () => {
  const main = gguf("main.gguf", 6, 256);
  const draft = gguf("draft.gguf", 2, 128);
  // Any GGUF's tensors stand in for a projector here: the flag reads only the header's tensor bytes.
  const mmproj = gguf("mmproj.gguf", 1, 128);

  it("--mmproj on the first GPU (host RAM with --no-mmproj-offload), --draft's weights + KV + compute, --no-mmap", async () => {
    const base = ["plan", "--gguf", main, "--engine", "llama.cpp", "--context", "2048", "--device", "rtx-4090", "--json"];
    const mmBytes = Object.values((await resolveGguf(mmproj)).model.gguf!.tensorBytes).reduce((a, b) => a + b, 0);
    const d = (await runCliJson(["plan", "--gguf", draft, "--engine", "llama.cpp", "--context", "2048", "--device", "rtx-4090", "--json"])) as PlanJson;
    const j = (await runCliJson([...base, "--mmproj", mmproj, "--draft", draft, "--gpu-layers", "4", "--no-mmap"])) as PlanJson;
    const [gpu, host] = j.buffers;
    expect([gpu.device, gpu.layers, gpu.output, host.layers, host.mapped]).toEqual(["CUDA0", 3, true, 3, false]);
    expect(gpu.projectorBytes).toBe(mmBytes);
    expect(gpu.draftBytes).toBe(d.memory.weightsBytes + d.memory.kvCacheBytes + d.memory.activationBytes);
    const off = (await runCliJson([...base, "--mmproj", mmproj, "--no-mmproj-offload"])) as PlanJson;
    expect(off.buffers.find((r) => r.device === "CPU")!.projectorBytes).toBe(mmBytes);
  }, 60_000);

  it("bad input: one line, exit 2", async () => {
    for (const [args, msg] of [
      [["--gpu-layers", "-1"], /--gpu-layers must be a whole number/],
      [["--flash-attn", "maybe"], /--flash-attn must be on, off or auto/],
      [["--tensor-split", "0,0"], /--tensor-split needs non-negative proportions/],
      [["--split-mode", "tensor"], /--split-mode must be layer, row or none/],
      [["--no-mmproj-offload"], /--no-mmproj-offload needs --mmproj/],
    ] as const) {
      const r = await runCli(["plan", "--gguf", main, "--engine", "llama.cpp", "--context", "512", ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    const v = await runCli(["plan", "--gguf", main, "--engine", "vllm", "--context", "512", "--gpu-layers", "3"]);
    expect([v.code, /are llama.cpp options/.test(v.stderr)]).toEqual([2, true]);
  }, 60_000);
});
