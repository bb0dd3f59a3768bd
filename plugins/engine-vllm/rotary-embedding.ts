// vllm/model_executor/layers/rotary_embedding/: every rotary embedding precomputes a cos/sin table at load time,
// which "Model loading took" counts with the weights (it is allocated inside load_model's memory profiler).
import type { Estimate, ModelSpec, RopeSpec } from "../../lib/calc/index.js";

/**
 * Positions a RoPE's cos_sin_cache covers. base.py RotaryEmbedding._compute_cos_sin_cache: max_position_embeddings
 * rows; linear_scaling_rope.py and dynamic_ntk_scaling_rope.py: max_position × factor; yarn_scaling_rope.py and
 * deepseek_scaling_rope.py: get_rope hands them original_max_position_embeddings, and they build
 * original × factor rows; phi3_long_rope_scaled_rope.py: a short (original) and a long (max) table; mrope.py: the
 * table is enlarged to 4 × max_position ("In Qwen2.5-VL, the maximum index value is related to the duration of the
 * input video"). llama3_rope.py and the rest keep max_position_embeddings.
 */
function cachedPositions(r: RopeSpec): number {
  const factor = r.factor ?? 1;
  const orig = r.originalMaxPositions ?? r.maxPositions;
  let n: number;
  switch (r.type) {
    case "linear":
    case "dynamic":
      n = r.maxPositions * factor;
      break;
    case "yarn":
    case "deepseek_yarn":
      n = orig * factor;
      break;
    case "longrope":
      n = orig + r.maxPositions;
      break;
    default:
      n = r.maxPositions;
  }
  return Math.trunc(r.mrope ? n * 4 : n);
}

/**
 * Bytes of the cos/sin tables on every rank: one table per distinct RoPE (rotary_embedding/__init__.py get_rope
 * memoises them in _ROPE_DICT, so layers sharing a RoPE share its table), [positions, rotary_dim] in the model dtype
 * (base.py: cache.to(dtype); not sharded by TP). Gemma 3: a linear ×8 global table and a default local one, 0.5625 GiB
 * at head_dim 256; Llama 4 Scout: 10,485,760 positions × 128, 2.5 GiB.
 */
export function ropeCacheBytes(model: ModelSpec, dtypeBytes: number): Estimate {
  const ropes = model.rope ?? [];
  let bytes = 0;
  for (const r of ropes) bytes += cachedPositions(r) * r.rotaryDim * dtypeBytes;
  return {
    bytes,
    basis: ropes.length
      ? `vLLM keeps ${ropes.length} RoPE cos/sin table(s) per rank with the weights (${ropes.map((r) => `${r.type} ${cachedPositions(r)} × ${r.rotaryDim}`).join(", ")}; rotary_embedding get_rope)`
      : "vLLM: no rotary embedding table (no RoPE, or none known for this model source)",
  };
}
