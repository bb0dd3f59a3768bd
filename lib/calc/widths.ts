// Per-token activation widths of a model, from its tensor list: what one token occupies while it passes through
// the widest block. The MLX and transformers activation estimates use it (computed once per compiled plan).
import type { ModelSpec } from "./types.js";

export interface ActivationWidths {
  /** Elements per token held at the peak of the widest block: residual + normed input + max(attention, MLP) outputs. */
  peakElemsPerToken: number;
  hidden: number;
  vocab: number;
}

function rows(shape: number[]): number {
  let r = 1;
  for (let i = 1; i < shape.length; i++) r *= shape[i];
  return r;
}

/**
 * Attention: outputs of every projection (q, k, v, MLA down/up, o). MLP: gate and up outputs plus their product
 * (act(gate) × up has the width of one of them); routed experts count top-k of E (each token visits k experts).
 */
export function activationWidths(model: ModelSpec): ActivationWidths {
  let widest = 0;
  for (const l of model.layers) {
    let attn = 0;
    let mlpIn = 0;
    let other = 0;
    for (const t of l.tensors) {
      if (t.shape.length < 2) continue;
      if (t.role === "attention") attn += t.shape[1];
      else if (t.role === "ffn" || t.role === "shared_expert" || t.role === "expert") {
        if (t.name.includes("down")) continue;
        const out = t.role === "expert" && l.moe ? t.shape[1] * l.moe.activeExperts : t.shape[1];
        mlpIn += out;
      } else if (t.role === "ssm") other += rows(t.shape) / (t.shape.length > 2 ? t.shape[2] : 1);
    }
    // gate+up outputs, plus their product (half of them when gated, all when a plain up projection).
    const mlp = mlpIn + mlpIn / 2;
    widest = Math.max(widest, attn, mlp, other);
  }
  return { peakElemsPerToken: 2 * model.hiddenSize + widest, hidden: model.hiddenSize, vocab: model.vocabSize };
}
