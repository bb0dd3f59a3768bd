// A model's architecture class: the one label evidence is grouped by (/evidence, reports' error for their class).
import type { ModelSpec } from "../types.js";

/** Attention, FFN and state features of a model, one label: "dense", "MoE", "MLA+MoE", "sliding", "SSM-hybrid+MoE", … */
export function architectureClass(model: ModelSpec | undefined): string {
  if (!model) return "not modelled";
  const kinds = new Set(model.layers.map((l) => l.cache.kind));
  const attention = ["full", "sliding", "chunked", "mla", "cross"].some((k) => kinds.has(k as never));
  const parts: string[] = [];
  if (kinds.has("recurrent")) parts.push(attention ? "SSM-hybrid" : "SSM");
  if (kinds.has("mla")) parts.push("MLA");
  if (kinds.has("sliding")) parts.push("sliding");
  if (kinds.has("chunked")) parts.push("chunked");
  if (kinds.has("cross")) parts.push("cross");
  if (model.layers.some((l) => l.moe)) parts.push("MoE");
  return parts.length ? parts.join("+") : "dense";
}
