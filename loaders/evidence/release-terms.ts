// Memory terms of engine releases older than the ones hwledger's profiles follow. A measured run made before the
// commit that removed a term still carries it; its case lists the term in settings.releaseTerms and the prediction
// adds it (the row says so). Each term cites the commit or source it comes from.
import type { ModelSpec } from "../../lib/calc/types.js";

export interface TermInputs {
  model: ModelSpec;
  /** Prompt tokens, new tokens, sequences and context of the run. */
  prompt: number;
  gen: number;
  seqs: number;
  context: number;
  /** MLX prompt chunk (prefill_step_size). */
  prefillStep: number;
  /** KV cache bytes per token of the plan (all layers, one sequence). */
  kvBytesPerToken: number;
}

/** Elements of the largest decoder linear (what bitsandbytes quantizes one tensor at a time). */
function largestLinear(model: ModelSpec): number {
  let m = 0;
  for (const l of model.layers) for (const t of l.tensors) if (t.shape.length >= 2 && ["attention", "ffn", "expert", "shared_expert"].includes(t.role)) m = Math.max(m, t.shape[0] * t.shape[1]);
  return m;
}

const lastChunk = (x: TermInputs) => ((x.prompt - 1) % x.prefillStep) + 1;

export const RELEASE_TERMS: Record<string, { engine: string; source: string; bytes: (x: TermInputs) => number }> = {
  // mlx_lm before mlx-lm#406 (24fefe3d, 2025-08-28): generate_step ran the last prompt chunk (everything after the full
  // prefill_step_size chunks, `while y.size > prefill_step_size`) through _step, so lm_head produced logits for the
  // whole chunk in the model dtype.
  lastChunkLogits: {
    engine: "mlx",
    source: "mlx_lm before mlx-lm#406: logits for the whole last prompt chunk (model dtype)",
    bytes: (x) => lastChunk(x) * x.model.vocabSize * 2,
  },
  // mlx_lm before mlx-lm#40 (2025-03-20): the prefill passed an array mask, so mx.fast.scaled_dot_product_attention
  // took its unfused fallback: scores and their softmax, heads × chunk × keys in the model dtype, at the last full
  // chunk (keys = the whole prompt by then).
  unfusedPrefillAttention: {
    engine: "mlx",
    source: "mlx_lm before mlx-lm#40: unfused prefill attention scores and softmax at the last full chunk",
    bytes: (x) => (x.prompt > x.prefillStep ? 2 * x.model.nHeads * x.prefillStep * (x.prompt - lastChunk(x)) * 2 : 0),
  },
  // GPTBigCodeModel.__init__ (models/gpt_bigcode/modeling_gpt_bigcode.py, 2023) registers bias =
  // torch.tril(torch.ones((max_positions, max_positions), dtype=torch.bool)): n_positions² bytes on the GPU.
  gptBigCodeMaskBuffer: {
    engine: "transformers",
    source: "GPTBigCodeModel (2023): an n_positions² bool causal-mask buffer",
    bytes: (x) => x.model.maxContext ** 2,
  },
  // The octocoder runs reset the peak before from_pretrained, so loading counts. bitsandbytes 0.41 nn/modules.py
  // Int8Params.cuda: B = data.half().cuda(); CB, CBt, SCB, SCBt, _ = double_quant(B); del CBt: while a linear is
  // quantized its fp16 copy (2 B) and CBt (1 B) sit on top of the kept CB, every earlier layer resident; the
  // largest linear gives the peak.
  bnbInt8QuantizeOnLoad: {
    engine: "transformers",
    source: "bitsandbytes 0.41 Int8Params.cuda: fp16 copy + CBt of the largest linear while it is quantized on load",
    bytes: (x) => largestLinear(x.model) * 3,
  },
  // GPT-NeoX attention of that time registered the same max_positions² bool "bias" per layer (removed with the
  // attention-interface refactor). Stated from the modeling file's history; the 128-token Pythia rows leave 101 MB
  // above weights + KV + logits, what 24 × 2048² bytes (100.7 MB) predicts.
  gptNeoxMaskBuffers: {
    engine: "transformers",
    source: "GPT-NeoX attention (2024): a max_positions² bool mask buffer per layer",
    bytes: (x) => x.model.layers.length * x.model.maxContext ** 2,
  },
  // Models on tuple past_key_values (GPT-NeoX until its Cache port) torch.cat each layer's K/V into a new tensor
  // while generate still holds the previous step's tuple: "the current implementation basically has 2 copies of the
  // full cache in every iteration" (huggingface/transformers#30536, 2024-04-29).
  legacyTupleCache: {
    engine: "transformers",
    source: "tuple past_key_values (transformers#30536): a second copy of the whole cache",
    bytes: (x) => x.seqs * x.context * x.kvBytesPerToken,
  },
  // Before generate passed num_logits_to_keep / logits_to_keep = 1 (transformers 4.45), the prefill computed logits
  // for every prompt token in the model dtype, and _sample still held them while the first decode step ran.
  fullPromptLogits: {
    engine: "transformers",
    source: "transformers before 4.45: prefill logits for every prompt token (model dtype)",
    bytes: (x) => x.seqs * x.prompt * x.model.vocabSize * 2,
  },
};

/** The named terms' bytes, each with its source, for one run. */
export function releaseTerms(names: string[], engine: string, x: TermInputs): { term: string; bytes: number; source: string }[] {
  return names.map((term) => {
    const t = RELEASE_TERMS[term];
    if (!t || t.engine !== engine) throw new Error(`no ${engine} release term "${term}"`);
    return { term, bytes: t.bytes(x), source: t.source };
  });
}
