// Per-device buffers of partly offloaded and multi-GPU llama.cpp runs against their verbatim logs (data/evidence/logs,
// sources in SOURCES-llamacpp.md). No GPU runs here: the logs are real runs elsewhere, parsed as fixtures. The logs do
// not carry the GGUF headers; the models are built from the architecture their logs print (or the catalog's config)
// with the file's quantization mix (lib/calc/gguf-quant.ts), which is where the model-buffer figures come from.
import { describe, expect, it } from "vitest";
import { makeDeployment, modelFromHfConfig, plan } from "../../lib/calc/index.js";
import type { DeviceBuffers, EngineOptions, ModelSpec } from "../../lib/calc/index.js";
import { evidenceLog } from "../../loaders/evidence/index.js";
import { resolveModel } from "../../loaders/models.js";
import { parseLlamaCppLog, placeLayers } from "../../plugins/engine-llamacpp/index.js";
import { engine } from "../../plugins/engines.js";

const MIB = 1024 * 1024;
const mib = (b: number) => (b / MIB).toFixed(2);

function buffers(model: ModelSpec, weights: string, context: number, seqs: number, options: EngineOptions): DeviceBuffers[] {
  const e = engine("llama.cpp");
  return plan(model, makeDeployment(model, { engine: e, weights, context, seqs, options }), e).buffers!;
}

describe("llama.cpp per-device buffers vs verbatim logs", () => {
  it("Qwen2.5-3B Q4_K_M, Vulkan, -ngl 35 of 37 (b8179): host and GPU model, KV, output buffers as printed; compute", () => {
    // The log: "offloading output layer to GPU", "offloading 34 repeating layers to GPU", "offloaded 35/37 layers".
    const f = parseLlamaCppLog(evidenceLog("llamacpp-server-qwen2.5-3b-q4km-vulkan-win-b8179.log"));
    const qwen = modelFromHfConfig(
      { model_type: "qwen2", hidden_size: 2048, num_hidden_layers: 36, num_attention_heads: 16, num_key_value_heads: 2, intermediate_size: 11008, vocab_size: 151936, tie_word_embeddings: true },
      "qwen2.5-3b",
    );
    const [gpu, host] = buffers(qwen, "Q4_K_M", f.nCtx!, f.nSeqMax!, { gpuLayers: 35, kvUnified: true, llamaCppBackend: "Vulkan" });
    expect([gpu.device, gpu.layers, gpu.output, host.layers]).toEqual(["Vulkan0", 34, true, 2]);
    // Model buffers: token_embd and layers 0–1 mapped on the host; layers 2–35, output_norm and the tied output
    // (token_embd duplicated onto the output layer's GPU) on Vulkan.
    expect(mib(host.modelBytes)).toBe(mib(f.weightsBytesByBuffer.CPU_Mapped));
    expect(Math.abs(gpu.modelBytes - f.weightsBytesByBuffer.Vulkan1) / f.weightsBytesByBuffer.Vulkan1).toBeLessThan(0.001);
    // KV per device: 2 host layers, 34 GPU layers (llama_kv_cache: dev_layer(il)).
    expect([mib(host.kvBytes), mib(gpu.kvBytes)]).toEqual([mib(f.kvBuffersByDevice.CPU), mib(f.kvBuffersByDevice.Vulkan1)]);
    expect(mib(host.outputBytes)).toBe(mib(f.outputBytes!));
    // Compute: the GPU peaks at the logits (exact); the host keeps inp_embd and its layers' residual and norm.
    expect(mib(gpu.computeBytes)).toBe(mib(f.computeBytesByBuffer.Vulkan1));
    expect(Math.abs(host.computeBytes - f.computeBytesByBuffer.Vulkan_Host)).toBeLessThan(0.01 * MIB + 1);
  });

  it("Qwen3.5-35B-A3B Q8_0 over 4 × RTX A6000: layers 0–20 on CUDA2, 21–39 + output on CUDA3; model, KV + recurrent state and output as printed", async () => {
    // The log has no command line; its buffers (none on CUDA0/CUDA1, 21 vs 19 + output layers) are those of
    // --tensor-split 0,0,1,1 (inferred, not printed). Layers per device follow from the KV (5 + 5 full-attention
    // layers, 320.00 MiB each) and recurrent buffers (16 and 14 layers at 8.375 MiB: 134.00 and 117.25 MiB).
    const f = parseLlamaCppLog(evidenceLog("llamacpp-server-qwen3.5-35b-a3b-q8-cuda-4xa6000.log"));
    const { model } = await resolveModel("Qwen/Qwen3.5-35B-A3B", { offline: true });
    const rows = buffers(model, "Q8_0", f.nCtx!, f.nSeqMax!, { kvUnified: true, tensorSplit: [0, 0, 1, 1] });
    const by = Object.fromEntries(rows.map((r) => [r.device, r]));
    expect(Object.keys(by)).toEqual(["CUDA2", "CUDA3", "CPU"]);
    expect([by.CUDA2.layers, by.CUDA3.layers, by.CUDA3.output]).toEqual([21, 19, true]);
    for (const d of ["CUDA2", "CUDA3"]) expect(mib(by[d].modelBytes)).toBe(mib(f.weightsBytesByBuffer[d]));
    expect(mib(by.CPU.modelBytes)).toBe(mib(f.weightsBytesByBuffer.CPU_Mapped));
    // KV + RS buffers per device (the parser sums llama_kv_cache and llama_memory_recurrent lines per device).
    for (const d of ["CUDA2", "CUDA3"]) expect(mib(by[d].kvBytes)).toBe(mib(f.kvBuffersByDevice[d]));
    expect(mib(by.CPU.outputBytes)).toBe(mib(f.outputBytes!));
    // Compute buffers are not modelled for this graph (gated delta net, 4 pipeline copies): printed, not asserted.
    const c = ["CUDA2", "CUDA3"].map((d) => `${d} ${mib(by[d].computeBytes)} vs ${mib(f.computeBytesByBuffer[d])}`);
    console.log(`qwen3.5-35b-a3b compute buffers (MiB, planned vs printed): ${c.join(", ")}, host ${mib(by.CPU.computeBytes)} vs ${mib(f.computeBytesByBuffer.CUDA_Host)}`);
  });

  it("Ollama's runner -ngl 44 --tensor-split 11,11,11,11 on an 80-layer model: 11 slots per GPU, output on the last", () => {
    const text = evidenceLog("ollama-serve-log-offload-4gpu-split-ollama-9181.log");
    expect(text).toContain("--n-gpu-layers 44");
    expect(text).toContain("--tensor-split 11,11,11,11");
    expect(text).toContain("layers.model=81");
    const p = placeLayers(80, { engine: "llama.cpp", weights: "Q4_K_M", kvDtypeK: "f16", kvDtypeV: "f16", tp: 1, pp: 1, options: { gpuLayers: 44, tensorSplit: [11, 11, 11, 11] } });
    const count = [0, 1, 2, 3].map((g) => p.slot.filter((s) => s === g).length);
    expect(count).toEqual([11, 11, 11, 11]);
    expect(p.slot.slice(0, 37).every((s) => s === -1)).toBe(true);
    expect(p.slot[80]).toBe(3);
  });

  it("Ollama's ggml runner, Mistral-Small-3 Q8_0 over 2 GPUs: token_embd in host RAM (680.0 MiB)", () => {
    const text = evidenceLog("ollama-runner-log-model-weights-2gpu-ollama-11090.log");
    // mistral3 text model (Mistral-Small-3.1-24B): 40 layers, n_embd 5120, 32 heads / 8 KV of 128, n_ff 32768, vocab 131072.
    const mistral = modelFromHfConfig(
      { model_type: "mistral", hidden_size: 5120, num_hidden_layers: 40, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128, intermediate_size: 32768, vocab_size: 131072, tie_word_embeddings: false },
      "mistral-small-3",
    );
    const rows = buffers(mistral, "Q8_0", 4096, 1, { gpus: [0, 1].map(() => ({ id: "gpu", name: "gpu", deviceClass: "cuda" as const, memoryBytes: 1 })) });
    const host = rows.find((r) => r.device === "CPU")!;
    expect(text).toContain('buffer=CPU size="680.0 MiB"');
    expect((host.modelBytes / MIB).toFixed(1)).toBe("680.0");
    // The GPUs' 11.5 + 11.9 GiB also hold the vision tower Ollama's mistral3 GGUF carries (585 tensors): not compared.
  });
});
