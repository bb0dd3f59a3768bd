// Deployment input validation (zod) and defaults, shared by CLI, pages and tests.
import { z } from "zod";
import type { EngineModel } from "./engine.js";
import { parseKvDtypePair } from "./kvdtype.js";
import { weightScheme } from "./weights.js";
import { LIMITS, boundedInt, limitReason } from "./limits.js";
import { InputError } from "./types.js";
import type { Deployment, EngineOptions, ModelSpec } from "./types.js";

export const deploymentInputSchema = z
  .object({
    /** The engine (plugins/engines.ts resolves --engine to one). */
    engine: z.custom<EngineModel>((e) => typeof e === "object" && e !== null && typeof (e as EngineModel).id === "string" && typeof (e as EngineModel).compile === "function", { message: "engine must be an engine plugin" }),
    weights: z.string().optional(),
    kvDtype: z.string().optional(),
    context: boundedInt("--context", 1, "context"),
    seqs: boundedInt("--seqs", 1, "seqs").default(1),
    tp: boundedInt("--tp", 1, "tp").default(1),
    pp: boundedInt("--pp", 1, "pp").default(1),
    options: z.custom<EngineOptions>().optional(),
  })
  .refine((d) => d.tp * d.pp <= LIMITS.ranks.max, { message: `--tp × --pp is too large (${limitReason("ranks")})` });

export type DeploymentInput = z.input<typeof deploymentInputSchema>;

/** The native weight scheme of a checkpoint (bf16 unless its config says it is published quantized). */
export function nativeWeights(model: ModelSpec): string {
  if (model.nativeQuant) return model.nativeQuant;
  const d = model.nativeDtype.toLowerCase();
  // A float32 checkpoint is served in 16 bits: vLLM's "auto" dtype downcasts it ("Following the common practice,
  // we use float16 for float32 models", vllm/config _get_and_verify_dtype; bfloat16 in later versions), and
  // GGUF/MLX conversions default to 16-bit too. --weights fp32 still plans it in 32 bits.
  return d.includes("float16") && !d.includes("b") ? "fp16" : "bf16";
}

/** Validates user input into a Deployment; every problem becomes an InputError with one clear line. */
export function makeDeployment(model: ModelSpec, input: DeploymentInput): Deployment {
  const r = deploymentInputSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InputError(issue.message.startsWith("--") ? issue.message : `${issue.path.join(".") || "deployment"}: ${issue.message}`);
  }
  const d = r.data;
  const engine = d.engine as EngineModel;
  const weights = d.weights ?? nativeWeights(model);
  weightScheme(weights); // throws on unknown names
  const kv = parseKvDtypePair(d.kvDtype ?? engine.defaults.kvDtype);
  const dep = { engine: engine.id, weights, kvDtypeK: kv.k, kvDtypeV: kv.v, context: d.context, seqs: d.seqs, tp: d.tp, pp: d.pp, options: d.options };
  // A deployment the engine itself refuses is bad input here, at the edge (vLLM: TP that does not split the heads).
  engine.checkDeployment?.(model, dep);
  return dep;
}
