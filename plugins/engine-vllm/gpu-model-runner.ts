// The profile run: vllm/v1/worker/gpu_model_runner.py GPUModelRunner.profile_run (l. 5731 at v0.19.0) — multimodal
// encoder outputs kept in the encoder cache, _dummy_run(max_num_batched_tokens) with attention metadata absent (so
// attention kernels do not run), then on the last pipeline stage _dummy_sampler_run. Its torch peak increase is what
// Worker.determine_available_memory charges as "torch peak memory increase".
import type { DeploymentShape, Estimate, ModelSpec } from "../../lib/calc/index.js";
import { modelDtypeBytes, vllmDefaultBatchedTokens, vllmSchedulerDefaults } from "./arg-utils.js";
import { FORWARD_RESIDUALS, TORCH_WORKSPACE_GIB } from "./measured.js";
import { intermediateTensorBytes } from "./pp-stages.js";
import { moeWorkspacePersists, vllmAtLeast } from "./releases.js";
import { samplerWarmup } from "./sampler.js";

const GIB = 1024 ** 3;

/** Per-layer widths the forward pass materialises (from the tensor shapes: ne0 = input, ne1 = output). */
export interface LayerWidths {
  dense: number;
  expert: number;
  topk: number;
  shared: number;
  attnQ: number;
  attnKv: number;
  attnOut: number;
}

export function layerWidths(model: ModelSpec): LayerWidths[] {
  return model.layers.map((l) => {
    let dense = 0, expert = 0, shared = 0, attnQ = 0, attnKv = 0, attnOut = 0;
    for (const t of l.tensors) {
      const n = t.name.slice(t.name.indexOf(".", 4) + 1);
      if (n === "ffn_gate" || n === "ffn_up") dense += t.shape[1];
      else if (n === "ffn_gate_exps" || n === "ffn_up_exps") expert += t.shape[1];
      else if (n === "ffn_gate_shexp" || n === "ffn_up_shexp") shared += t.shape[1];
      else if (n === "attn_q" || n === "attn_q_b") attnQ += t.shape[1];
      else if (n === "attn_k" || n === "attn_v" || n === "attn_kv_b") attnKv += t.shape[1];
      else if (n === "attn_output") attnOut += t.shape[0];
      else if (n === "ssm_in") attnQ += t.shape[1];
    }
    return { dense, expert, topk: l.moe?.activeExperts ?? 0, shared, attnQ, attnKv, attnOut };
  });
}

/** Tokens and dummy requests of the profile run (max_num_batched_tokens over min(max_num_seqs, tokens) requests). */
export function profileShape(model: ModelSpec, dep: DeploymentShape): { tokens: number; rows: number } {
  const o = dep.options ?? {};
  const tokens = o.maxNumBatchedTokens ?? vllmDefaultBatchedTokens(model, dep);
  const rows = Math.min(o.maxNumSeqs ?? vllmSchedulerDefaults(undefined, o.vllmVersion, o.vllmEntryPoint).maxNumSeqs, tokens);
  return { tokens, rows };
}

/**
 * Fused-MoE workspaces of one layer per token: TritonExperts.workspace_shapes (layers/fused_moe/fused_moe.py) gives
 * workspace13 (M, topk, max(N/2, K)) and workspace2 (M, topk, max(N, K)) with N = w13 width per rank (gate + up of
 * moe_intermediate / tp) and K = hidden; modular_kernel.py _allocate_buffers takes both at once from the workspace
 * manager. Before 0.13 the same caches were per-call transients (cache1 2N, cache2 N, cache3 K per routed token).
 */
function moeWidth(w: LayerWidths, hidden: number, tp: number, persistent: boolean): number {
  if (!w.topk) return 0;
  const n = w.expert / tp;
  return persistent ? w.topk * (Math.max(n / 2, hidden) + Math.max(n, hidden)) : w.topk * (n * 1.5 + hidden);
}

/**
 * Encoder outputs profile_run keeps in encoder_cache while the dummy run and sampler run: the largest modality's
 * items that fit the encoder budget (multimodal/encoder_budget.py: budget = max(max_num_batched_tokens, tokens per
 * item), items = budget // tokens per item), each item's tokens × hidden in the model dtype. Without a known item
 * size the budget itself is the bound.
 */
function encoderCacheBytes(model: ModelSpec, tokens: number, a: number): number {
  if (!model.vision) return 0;
  const item = model.vision.prefixLmItemTokens;
  const budget = Math.max(tokens, item ?? 0);
  const kept = item ? Math.floor(budget / item) * item : budget;
  return kept * model.hiddenSize * a;
}

/**
 * Torch peak increase of profile_run on one rank of a pipeline stage (`stageLayers`; the last stage also samples).
 * forward: _dummy_run's residual stream (3 × tokens × hidden before 0.17; measured.ts FORWARD_RESIDUALS from 0.17)
 * plus the widest layer transient (qkv and attention output together, or gate_up + SiluAndMul output = 1.5 × gate_up,
 * with the MoE caches before 0.13). sampler phase: profile_run still holds hidden_states (tokens × hidden) when
 * _dummy_sampler_run adds rand_like(last hidden) (rows × hidden) and the warm-up (sampler.ts). Added to the larger:
 * persistent MoE workspaces (0.13+), the encoder cache (first stage), intermediate tensors (stages after the first,
 * pp-stages.ts), and from 0.17 measured.ts's torch workspaces.
 */
export function vllmProfilePeak(model: ModelSpec, dep: DeploymentShape, stageLayers?: number[], stage = 0, stages = 1, widths = layerWidths(model)): Estimate {
  const o = dep.options ?? {};
  const { tokens: T, rows: R } = profileShape(model, dep);
  const a = modelDtypeBytes(dep);
  const tp = dep.tp;
  const v17 = vllmAtLeast(o.vllmVersion, 0, 17);
  const persistent = moeWorkspacePersists(o.vllmVersion);
  let widest = 0;
  let moe = 0;
  for (const i of stageLayers ?? widths.map((_, k) => k)) {
    const w = widths[i];
    const attn = (w.attnQ + w.attnKv + w.attnOut) / tp;
    const mlp = (w.dense * 3) / 2 / tp + (w.shared * 3) / 2 / tp;
    const experts = moeWidth(w, model.hiddenSize, tp, persistent);
    if (persistent) {
      widest = Math.max(widest, attn, mlp);
      moe = Math.max(moe, experts);
    } else widest = Math.max(widest, attn, mlp + experts);
  }
  const residuals = v17 ? FORWARD_RESIDUALS.count : 3;
  const forward = T * (residuals * model.hiddenSize + widest) * a;
  const last = stage === stages - 1;
  const warm = last ? samplerWarmup(model, dep, R) : undefined;
  const sampling = warm ? T * model.hiddenSize * a + R * model.hiddenSize * a + warm.bytes : 0;
  const workspace = T * moe * a;
  const encoder = stage === 0 ? encoderCacheBytes(model, T, a) : 0;
  const intermediate = intermediateTensorBytes(model, dep, T, stage);
  const cublas = v17 ? TORCH_WORKSPACE_GIB.gib * GIB : 0;
  const bytes = Math.max(forward, sampling) + workspace + encoder + intermediate + cublas;
  const parts = [
    `forward ${(forward / GIB).toFixed(3)} GiB`,
    ...(warm ? [`${warm.basis}: ${(sampling / GIB).toFixed(3)} GiB with the hidden states`] : []),
    ...(workspace ? [`MoE workspaces ${(workspace / GIB).toFixed(3)} GiB`] : []),
    ...(encoder ? [`encoder cache ${(encoder / GIB).toFixed(3)} GiB`] : []),
    ...(intermediate ? [`intermediate tensors ${(intermediate / GIB).toFixed(3)} GiB`] : []),
    ...(cublas ? [`torch workspaces ${TORCH_WORKSPACE_GIB.gib} GiB (measured)`] : []),
  ];
  return { bytes, basis: `estimate: profile_run peak${stages > 1 ? ` of stage ${stage}` : ""} with max_num_batched_tokens ${T}, ${R} dummy requests: ${parts.join(", ")}` };
}
