// Which layers of a family slide, chunk or keep recurrent state: declared once per family (in its file, or in
// gguf-only.ts for families read only from GGUF headers). The HF builders take their defaults from it and the GGUF
// loader reads it by GGUF architecture name, as llama.cpp's src/models/<arch>.cpp do (load_swa_pattern, is_recurrent).
import type { CacheSpec } from "../types.js";

export type RecurrentVariant = Extract<CacheSpec, { kind: "recurrent" }>["variant"];

export interface LayerPattern {
  /** All layers but every `swaPeriod`-th (1-based) one attend locally (llama_hparams::set_swa_pattern, dense_first false). */
  swaPeriod?: number;
  /** The local layers attend within aligned chunks (Llama 4 iRoPE) of this many tokens when the file does not say. */
  chunkDefault?: number;
  /**
   * Recurrent layers: every layer; all but every `fullEvery`-th (1-based); or, in a GGUF header, the layers given no KV
   * heads (llama.cpp hparams.recurrent_layer_arr for Jamba and Granite hybrids) and, for Nemotron-H, no FFN either.
   */
  recurrent?: { variant: RecurrentVariant; layers: "all" | { fullEvery: number } | "no-kv-heads" | "no-kv-heads-no-ffn" };
}

/** Layer i attends locally under a period-n pattern; n = 0 makes every layer local (llama_hparams::set_swa_pattern). */
export function isSwaLayer(period: number, i: number): boolean {
  return period === 0 || i % period < period - 1;
}

/** Layer i keeps recurrent state when only every `fullEvery`-th (1-based) layer is full attention. */
export function isRecurrentBetweenFull(fullEvery: number, i: number): boolean {
  return (i + 1) % fullEvery !== 0;
}
