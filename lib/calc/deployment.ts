// Deployment input validation (zod) and defaults, shared by CLI, pages and tests.
import { z } from "zod";
import { parseEngine } from "./engines/index.js";
import { parseKvDtypePair } from "./kvdtype.js";
import { weightScheme } from "./quant.js";
import { LIMITS, boundedInt, limitReason } from "./limits.js";
import { InputError } from "./types.js";
import type { Deployment, EngineOptions, ModelSpec } from "./types.js";

export const deploymentInputSchema = z
  .object({
    engine: z.string(),
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
  const engine = parseEngine(d.engine);
  const weights = d.weights ?? nativeWeights(model);
  weightScheme(weights); // throws on unknown names
  const kv = parseKvDtypePair(d.kvDtype ?? "f16");
  if (engine === "vllm") checkVllmTensorParallel(model, d.tp);
  return { engine, weights, kvDtypeK: kv.k, kvDtypeV: kv.v, context: d.context, seqs: d.seqs, tp: d.tp, pp: d.pp, options: d.options };
}

/**
 * vLLM refuses a TP size that does not split the heads: ModelConfig.verify_with_parallel_config (vllm/config/model.py)
 * needs num_attention_heads % tp == 0, and QKVParallelLinear (model_executor/layers/linear.py) divides the KV heads
 * over the ranks when tp < kv_heads and replicates them when tp >= kv_heads, each with an exact divide(): so
 * kv_heads % tp == 0, or tp % kv_heads == 0 (Phi-4's 10 KV heads at TP 4 fail that assert: vllm-project/vllm#16021,
 * Phi-3-medium's: #5951). Checked here, at the edge, until the vLLM engine plugin owns it.
 */
export function checkVllmTensorParallel(model: ModelSpec, tp: number): void {
  if (tp === 1) return;
  if (model.nHeads % tp !== 0) throw new InputError(`vLLM needs the ${model.nHeads} attention heads divisible by --tp ${tp}`);
  const kvHeads = new Set<number>();
  for (const l of model.layers) if ("nKvHeads" in l.cache) kvHeads.add(l.cache.nKvHeads);
  for (const kv of kvHeads) {
    if (tp < kv ? kv % tp !== 0 : tp % kv !== 0) {
      throw new InputError(`vLLM cannot split the ${kv} KV heads of ${model.id} over --tp ${tp}: it needs ${tp < kv ? "the KV heads divisible by TP" : "TP divisible by the KV heads"}`);
    }
  }
}
