// Deployment input validation (zod) and defaults, shared by CLI, pages and tests.
import { z } from "zod";
import type { EngineModel } from "./engine.js";
import { parseKvDtypePair } from "./kvdtype.js";
import { ggufSchemeNames } from "./gguf-quant.js";
import { weightBytes, weightScheme } from "./weights.js";
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

const FLOATS = new Set(["bf16", "fp16", "fp32"]);

/**
 * Whether a weight scheme applies to a model, and why not: a scheme that quantizes none of its tensors (MXFP4 packs
 * only MoE experts: a dense model would stay 16-bit) is not a way to serve it; and a checkpoint published quantized
 * (gpt-oss in MXFP4) is served as published, dequantized to 16 bits, or converted by the tools that read it
 * (convert_hf_to_gguf.py → GGUF types, mlx_lm.convert → MLX schemes). AWQ, GPTQ, FP8 and the other GPU schemes are
 * made from a 16-bit checkpoint (AutoAWQ/GPTQ calibrate on it, vLLM quantizes it on load), so they do not apply there.
 */
export function schemeApplies(model: ModelSpec, weights: string): { applies: true } | { applies: false; why: string } {
  const name = weightScheme(weights).name;
  const native = nativeWeights(model);
  if (name === native || FLOATS.has(name)) return { applies: true };
  if (weightBytes(model, name).total === weightBytes(model, "bf16").total) return { applies: false, why: `${name} quantizes no tensor of ${model.id}` };
  const gguf = ggufSchemeNames().includes(name);
  if (!FLOATS.has(native) && !gguf && !/^mlx/i.test(name)) return { applies: false, why: `${model.id} is published in ${native}; ${name} is made from a 16-bit checkpoint` };
  return { applies: true };
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
