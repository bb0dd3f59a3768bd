// The engine registry (plugins/engines.ts) against the plugin folders: every plugins/engine-* folder is registered,
// nothing else is, each plugin passes the contract, and --engine resolves ids and each engine's own aliases.
import { describe, expect, it } from "vitest";
import { InputError } from "../../lib/calc/index.js";
import { validateEngine } from "../../plugins/engine-contract.js";
import { ENGINES, ENGINE_IDS, engine, parseEngine } from "../../plugins/engines.js";
import { discoverPlugins, pluginFolders } from "../../plugins/index.js";

describe("engine registry", () => {
  it("lists exactly the plugins/engine-* folders, each once", () => {
    expect(ENGINES.map((e) => e.name).sort()).toEqual(pluginFolders("engine"));
    expect(new Set(ENGINE_IDS).size).toBe(ENGINE_IDS.length);
  });

  it("registers the manifest each folder exports (what plugin discovery finds there)", async () => {
    const found = await discoverPlugins("engine");
    expect(found.map((p) => [p.folder, (p.manifest as { id?: unknown }).id])).toEqual(pluginFolders("engine").map((f) => [f, ENGINES.find((e) => e.name === f)!.id]));
  });

  it("every engine passes the contract", () => {
    for (const e of ENGINES) expect(validateEngine(e)).toBe(e);
    expect(() => validateEngine({ ...engine("vllm"), compile: 42 } as never)).toThrow(/^engine plugin engine-vllm: compile: compile must be a function/);
  });

  it("--engine takes an id or one of the engine's aliases, in any case", () => {
    expect(parseEngine("llamacpp").id).toBe("llama.cpp");
    expect(parseEngine("MLX-LM").id).toBe("mlx");
    expect(parseEngine(" hf ").id).toBe("transformers");
    expect(() => parseEngine("tgi")).toThrow(InputError);
    expect(() => parseEngine("tgi")).toThrow(`unknown engine "tgi" (known: ${ENGINE_IDS.join(", ")})`);
  });

  it("no two engines claim the same device class or the same weights", () => {
    const classes = ENGINES.flatMap((e) => e.defaultFor);
    expect(new Set(classes).size).toBe(classes.length);
    for (const w of ["Q4_K_M", "IQ4_XS", "mlx-4bit", "bf16", "awq"]) expect(ENGINES.filter((e) => e.ownsWeights?.(w)).length).toBeLessThanOrEqual(1);
  });
});
