// Core types of the memory calculator. Pure data: no I/O, runs in the browser unchanged.
// The cache kinds mirror vLLM's vllm/v1/kv_cache_interface.py (one spec per kind: full attention,
// sliding window, chunked local, MLA, Mamba), extended with what llama.cpp, MLX and transformers need. What each kind
// costs per token or per sequence is written once, in its module under cache/.

/** Per-layer cache description. Sizes are in elements; the engine applies dtype and rounding. */
export type CacheSpec =
  /** Full causal attention (MHA when nKvHeads == nHeads, GQA when fewer, MQA when 1). */
  | { kind: "full"; nKvHeads: number; headDimK: number; headDimV: number }
  /** Sliding-window attention: only the last `window` tokens are needed. `sinkTokens` are kept in addition. */
  | { kind: "sliding"; nKvHeads: number; headDimK: number; headDimV: number; window: number; sinkTokens?: number }
  /** Chunked local attention (Llama 4): attends within aligned chunks of `chunk` tokens. */
  | { kind: "chunked"; nKvHeads: number; headDimK: number; headDimV: number; chunk: number }
  /** Multi-head latent attention (DeepSeek-V2/V3, Kimi): latent or expanded per engine, see cache/mla.ts. */
  | { kind: "mla"; nHeads: number; kvLoraRank: number; ropeDim: number; qkNopeHeadDim: number; vHeadDim: number }
  /**
   * Recurrent state, per sequence and not per token: Mamba/Mamba2 (conv + SSM state) and linear
   * attention such as gated delta net (conv + recurrent matrix). Element counts are per sequence per layer.
   */
  | { kind: "recurrent"; variant: "mamba" | "mamba2" | "gated-delta-net" | "other"; convElems: number; stateElems: number }
  /** Cross-attention to an encoder output of `encoderTokens` tokens (fixed per sequence). */
  | { kind: "cross"; nKvHeads: number; headDimK: number; headDimV: number; encoderTokens: number }
  /** Layer keeps no cache (e.g. a pure MLP block). */
  | { kind: "none" };

export type CacheKind = CacheSpec["kind"];

/**
 * What a tensor does; quantization schemes treat roles differently (MXFP4 only the experts,
 * AWQ/GPTQ only linear projections, GGUF mixes upgrade attn_v/ffn_down/output).
 */
export type TensorRole =
  | "embedding" // token embedding table
  | "lm_head" // output projection (absent when tied)
  | "attention" // q/k/v/o projections, MLA down/up projections
  | "ffn" // dense MLP
  | "expert" // routed experts (all of them resident; `activeFraction` says how many run per token)
  | "shared_expert"
  | "router"
  | "ssm" // Mamba / linear-attention projections and conv
  | "norm" // norms, biases, small vectors, sinks: kept in high precision by every scheme
  | "vision" // vision tower and projector
  | "other";

/** One weight tensor, named in llama.cpp's GGUF convention (`blk.3.attn_q`), shape as ggml ne[] (ne0 = row length). */
export interface TensorSpec {
  name: string;
  shape: number[];
  role: TensorRole;
}

export interface MoeSpec {
  experts: number;
  activeExperts: number;
  sharedExperts: number;
}

export interface LayerSpec {
  index: number;
  /** Short label for tables and heatmaps, e.g. "attention", "sliding", "mla", "mamba2", "gated-delta-net". */
  kind: string;
  cache: CacheSpec;
  tensors: TensorSpec[];
  moe?: MoeSpec;
}

export interface VisionSpec {
  /** Parameters of the vision tower plus projector. */
  params: number;
  /** How the parameter count was obtained. */
  basis: string;
  /**
   * Tokens of the largest multimodal item when the model attends bidirectionally within an item (prefix-LM), so one
   * item must fit in one scheduler step (vLLM raises its default max_num_batched_tokens to this floor).
   */
  prefixLmItemTokens?: number;
}

/**
 * One rotary position embedding the attention layers use, as the config states it (rope_scaling / rope_parameters,
 * partial_rotary_factor, max_position_embeddings). Engines that precompute cos/sin tables size them from it
 * (vLLM: plugins/engine-vllm/rotary-embedding.ts). Read once in lib/calc/arch/rope.ts.
 */
export interface RopeSpec {
  /** Head size the rotary embedding is built for, and how many of its dimensions rotate. */
  headDim: number;
  rotaryDim: number;
  /** max_position_embeddings the model passes to its rotary embedding. */
  maxPositions: number;
  /** rope_type as the config names it ("default", "linear", "llama3", "yarn", "dynamic", "longrope", …). */
  type: string;
  theta?: number;
  factor?: number;
  originalMaxPositions?: number;
  /** Multimodal rotary sections (Qwen2-VL style mrope_section). */
  mrope?: boolean;
}

export interface ModelSpec {
  /** HF id or a user label. */
  id: string;
  /** HF `model_type` (text model's, for multimodal configs). */
  modelType: string;
  /** Architecture family handler that built this spec. */
  family: string;
  hiddenSize: number;
  vocabSize: number;
  nHeads: number;
  maxContext: number;
  tiedEmbeddings: boolean;
  /** dtype the checkpoint is published in (torch_dtype), e.g. "bfloat16". */
  nativeDtype: string;
  /** Weights of the checkpoint as published, when the config says (e.g. gpt-oss MXFP4 experts, FP8 DeepSeek-V3). */
  nativeQuant?: string;
  layers: LayerSpec[];
  /** Tensors outside the blocks: token_embd, output, output_norm. */
  globals: TensorSpec[];
  vision?: VisionSpec;
  /** The distinct rotary embeddings of the attention layers (absent: none, or not known for this source). */
  rope?: RopeSpec[];
  /** Exact tensor bytes and types when the model was read from a GGUF header (weights scheme "gguf"). */
  gguf?: GgufWeights;
  /** Exact bytes per block from the checkpoint's safetensors headers (weights scheme "checkpoint"). */
  checkpoint?: CheckpointWeights;
  /** Non-fatal remarks from ingestion (e.g. "generic path: model_type X not in the catalog"). */
  notes: string[];
}

/** The backend a device runs: engines' defaultFor; the speed model's assumed fractions for engines without measurements. */
export type DeviceClass = "cuda" | "rocm" | "metal" | "cpu" | "other";

/**
 * A device as an engine sees it (built from the catalog by lib/fleet/devices.ts engineDevice): engines whose
 * defaults depend on the GPU read it (vLLM EngineArgs.get_batch_defaults: total memory and device name).
 */
export interface DeviceView {
  /** Catalog id. */
  id: string;
  /** The name the driver reports (torch.cuda.get_device_name, nvidia-smi), e.g. "NVIDIA H100 80GB HBM3". */
  name: string;
  deviceClass: DeviceClass;
  /** Total memory as the runtime reports it (CUDA cudaMemGetInfo / torch total_memory), bytes. */
  memoryBytes: number;
  /** Streaming multiprocessors / compute units, when a real output states them. */
  computeUnits?: number;
}

/** An engine plugin's id (plugins/engines.ts lists them: "vllm", "llama.cpp", …). */
export type EngineId = string;

/** KV cache element types. GGUF block types carry their exact block overhead. */
export type KvDtype = "f32" | "f16" | "bf16" | "fp8" | "fp8_e4m3" | "fp8_e5m2" | "q8_0" | "q5_0" | "q5_1" | "q4_0" | "q4_1" | "iq4_nl" | "q8" | "q4";

export interface Deployment {
  engine: EngineId;
  /** Weight dtype or quantization name: bf16, fp16, fp32, fp8, int8, awq, gptq, nf4, mxfp4, Q4_K_M, Q8_0, … */
  weights: string;
  kvDtypeK: KvDtype;
  kvDtypeV: KvDtype;
  /** Tokens per sequence (vLLM max_model_len, llama.cpp n_ctx_seq). */
  context: number;
  /** Parallel sequences. */
  seqs: number;
  tp: number;
  pp: number;
  /** Engine options; absent means the engine's default. */
  options?: EngineOptions;
}

export interface EngineOptions {
  /** vLLM --block-size; llama.cpp has no blocks. */
  blockSize?: number;
  /** vLLM --max-num-batched-tokens. */
  maxNumBatchedTokens?: number;
  /** vLLM --max-num-seqs (defaults differ from --seqs; used by the profiling run). */
  maxNumSeqs?: number;
  /** vLLM --gpu-memory-utilization. */
  gpuMemoryUtilization?: number;
  /** vLLM --cpu-offload-gb: GiB of weights per GPU kept in pinned host memory and read over the host link each forward. */
  cpuOffloadGiB?: number;
  /** vLLM --enforce-eager (no CUDA graphs). */
  enforceEager?: boolean;
  /** vLLM VLLM_USE_FLASHINFER_SAMPLER: "flashinfer" opted in, "native" off; absent, the release's default (plugins/engine-vllm/releases.ts samplerPath). */
  sampler?: "flashinfer" | "native";
  /** vLLM release whose start-up rules to follow ("0.25.1"); absent: the plugin's default release (plugins/engine-vllm/releases.ts). */
  vllmVersion?: string;
  /** The device the engine runs on (`--device`): engines whose defaults depend on the GPU read it. */
  device?: DeviceView;
  /** vLLM entry point: `vllm serve` (default) or the offline LLM class, whose scheduler defaults differ. */
  vllmEntryPoint?: "serve" | "llm";
  /** vLLM MXFP4 MoE kernel, which sets the expert padding: Marlin on GPUs without FP4 (A100), else Triton. */
  mxfp4Backend?: "marlin" | "triton";
  /** llama.cpp -b / -ub. */
  batch?: number;
  ubatch?: number;
  /** llama.cpp -fa. */
  flashAttention?: boolean;
  /** llama.cpp --swa-full. */
  swaFull?: boolean;
  /** llama.cpp --kv-unified. */
  kvUnified?: boolean;
  /** llama.cpp backend the run uses (default: the device's own: CUDA, ROCm, Metal; Vulkan elsewhere). */
  llamaCppBackend?: "CUDA" | "ROCm" | "Vulkan" | "Metal" | "CPU";
  /** llama.cpp build number (b2824 = 2824), where kernels changed between builds; undefined = a recent build. */
  llamaCppBuild?: number;
  /** Ollama release whose defaults and placement to follow ("0.12.10"); absent: plugins/engine-ollama/releases.ts default. */
  ollamaVersion?: string;
  /** llama.cpp -ngl (layers on the GPU); undefined = all. */
  gpuLayers?: number;
  /** llama.cpp --no-kv-offload: the KV cache stays in host RAM. */
  noKvOffload?: boolean;
  /** llama.cpp --split-mode over several GPUs (default layer). */
  splitMode?: "layer" | "row" | "none";
  /** llama.cpp --tensor-split: proportions per GPU; absent: by each GPU's memory. */
  tensorSplit?: number[];
  /** The GPUs llama.cpp splits over (several --device ids), in order; absent: one GPU (options.device). */
  gpus?: DeviceView[];
  /** llama.cpp --mmap (default) / --no-mmap: host-resident weights mapped from the page cache or loaded. */
  mmap?: boolean;
  /** llama.cpp --mmproj: the projector GGUF's tensor bytes, and whether it goes to the GPU (not --no-mmproj-offload). */
  projector?: { bytes: number; offload: boolean };
  /** llama.cpp --draft: the draft model's own plan (weights, KV, compute) at the same context. */
  draft?: { weightsBytes: number; kvBytes: number; computeBytes: number };
  /** MLX --max-kv-size (rotating cache for every layer). */
  maxKvSize?: number;
  /** MLX kv group size for quantized cache. */
  kvGroupSize?: number;
  /** MLX --prefill-step-size (prompt chunk, default 2048). */
  prefillStepSize?: number;
  /** transformers cache_implementation: "dynamic" (DynamicCache, default) or "static" (StaticCache, preallocated). */
  cacheImplementation?: "dynamic" | "static";
}

/** Exact tensor types from a GGUF header, when planning a real file. */
export interface GgufWeights {
  /** Total bytes of tensor data per tensor name. */
  tensorBytes: Record<string, number>;
  /** ggml type name per tensor. */
  tensorTypes: Record<string, string>;
}

/** What a checkpoint's safetensors headers say, grouped the way plans need it. */
export interface CheckpointWeights {
  /** Bytes of each block's tensors (`…layers.N.…`), indexed like ModelSpec.layers. */
  perLayerBytes: number[];
  /** Embedding, output head, final norm, and anything outside the blocks (e.g. MTP layers). */
  otherBytes: number;
  /** Vision tower and projector tensors. */
  visionBytes: number;
  totalBytes: number;
  /** Parameters per safetensors dtype, as @huggingface/hub counts them. */
  paramsByDtype: Record<string, number>;
  files: string[];
}

export interface LayerRow {
  index: number;
  kind: string;
  kvBytes: number;
  weightBytes: number;
}

export interface DeviceRow {
  rank: number;
  weightsBytes: number;
  kvCacheBytes: number;
  activationBytes: number;
  overheadBytes: number;
  totalBytes: number;
}

/** One device's buffers as the engine prints them (llama.cpp: "CUDA0 model buffer size", "CPU_Mapped …", KV, compute). */
export interface DeviceBuffers {
  /** The engine's device name: "CUDA0", "CPU" (host). */
  device: string;
  /** Weights resident on the device; for the host, mapped (page cache) when `mapped`. */
  modelBytes: number;
  mapped?: boolean;
  kvBytes: number;
  computeBytes: number;
  /** Logits (llama.cpp's output buffer, host memory). */
  outputBytes: number;
  projectorBytes: number;
  draftBytes: number;
  /** Repeating layers whose weights sit here (the output layer counted apart). */
  layers: number;
  output: boolean;
}

export interface MemoryPlan {
  params: { total: number; active: number; embedding: number };
  memory: {
    weightsBytes: number;
    kvCacheBytes: number;
    activationBytes: number;
    overheadBytes: number;
    totalBytes: number;
  };
  kv: { bytesPerToken: number };
  layers: LayerRow[];
  devices: DeviceRow[];
  /** Per-device buffers when the engine places layers itself (llama.cpp -ngl, --tensor-split). */
  buffers?: DeviceBuffers[];
  /** Where each figure comes from (engine rule with its source, or "estimate: …"). */
  basis: string[];
  warnings: string[];
}

/** Thrown for input that is wrong, as opposed to a failure while running: the CLI maps it to exit code 2. */
export class InputError extends Error {
  override name = "InputError";
}
