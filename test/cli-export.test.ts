// hwledger export: the engine plugins' own argument builders, one command per engine that can run the plan.
import { describe, expect, it } from "vitest";
import { runCli, runCliJson } from "./helpers/cli.js";

describe("hwledger export", () => {
  it("vLLM, llama.cpp, Ollama and MLX commands for the same plan (context per sequence, -c N×S -np S)", () => {
    const r = runCliJson(["export", "--model", "Qwen/Qwen2.5-7B-Instruct", "--engine", "vllm", "--context", "8192", "--seqs", "4", "--tp", "2"]);
    const by = Object.fromEntries(r.commands.map((c: any) => [c.engine, c.argv]));
    expect(by.vllm).toEqual(expect.arrayContaining(["vllm", "serve", "Qwen/Qwen2.5-7B-Instruct", "--max-model-len", "8192", "--max-num-seqs", "4"]));
    expect(by.vllm.join(" ")).toContain("--tensor-parallel-size 2");
    expect(by["llama.cpp"].join(" ")).toContain("-c 32768 -np 4 --no-kv-unified");
    const ollama = r.commands.filter((c: any) => c.engine === "ollama");
    expect(ollama[0].argv).toEqual(["env", "OLLAMA_NUM_PARALLEL=4", "OLLAMA_FLASH_ATTENTION=1", "ollama", "serve"]);
    expect(ollama[1].file.text).toBe("FROM ./Qwen2.5-7B-Instruct-bf16.gguf\nPARAMETER num_ctx 8192\n");
    // MLX has no tensor parallel on one host: planned as one device.
    expect(by.mlx.join(" ")).toContain("--decode-concurrency 4");
  });

  it("an engine that cannot store the KV dtype is skipped with its reason", () => {
    const r = runCliJson(["export", "--model", "Qwen/Qwen2.5-7B-Instruct", "--engine", "llama.cpp", "--context", "4096", "--kv-dtype", "q8_0"]);
    expect(r.commands.map((c: any) => c.engine)).toEqual(["llama.cpp", "ollama", "ollama"]);
    expect(r.skipped.find((s: any) => s.engine === "vllm").reason).toMatch(/vLLM has no KV cache dtype "q8_0"/);
    const only = runCli(["export", "--model", "Qwen/Qwen2.5-7B-Instruct", "--engine", "vllm", "--only", "--context", "4096", "--kv-dtype", "q8_0"]);
    expect(only.code).toBe(2);
    expect(only.stderr).toMatch(/q8_0/);
  });
});

describe("hwledger report", () => {
  it("memory per scheme × context equals plan under the scheme's engine; each device's fit is `fit --device`'s", () => {
    const r = runCliJson(["report", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--no-evidence"]);
    expect(r.contexts).toEqual([4096, 32768, 131072]);
    const bf16 = r.memory.find((m: any) => m.weights === "bf16");
    const p = runCliJson(["plan", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--engine", "vllm", "--context", "32768"]);
    expect(bf16.totalBytes[1]).toBe(p.memory.totalBytes);
    // GGUF types are planned under llama.cpp, the engine that loads them.
    const q4 = r.memory.find((m: any) => m.weights === "Q4_K_M");
    expect(q4.engine).toBe("llama.cpp");
    expect(q4.totalBytes[1]).toBe(runCliJson(["plan", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--engine", "llama.cpp", "--weights", "Q4_K_M", "--context", "32768"]).memory.totalBytes);
    const l4 = r.fits.find((f: any) => f.device === "l4");
    const f = runCliJson(["fit", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--engine", "vllm", "--device", "l4"]);
    expect([l4.maxContext, l4.kvCapacityTokens]).toEqual([f.maxContext, f.kvCapacityTokens]);
    expect(l4.maxContext).toBeGreaterThan(0);
    expect(l4.maxContext).toBeLessThan(131072);
    expect(r.verdict).toMatch(/^fits one .+ at \d+k tokens in vLLM/);
  });
});
