// Public surface of the calculator: the CLI, the pages and the tests all go through these.
export * from "./types.js";
export { modelFromHfConfig, knownModelTypes } from "./arch/index.js";
export { parseConfigText } from "./arch/config-text.js";
export { plan, planJson, paramCounts, weightBytes } from "./plan.js";
export type { PlanOptions, ParamCounts, WeightBytes } from "./plan.js";
export { maxContext, maxContextForKv, fit, fewestGpus, bestQuant, perRankBytes } from "./solve.js";
export type { FitBudget, FitResult } from "./solve.js";
export { makeDeployment, nativeWeights } from "./deployment.js";
export type { DeploymentInput } from "./deployment.js";
export { parseEngine, engineProfile, ENGINE_IDS } from "./engines/index.js";
export { parseKvDtype, parseKvDtypePair, kvBytes, KV_DTYPES } from "./kvdtype.js";
export { weightScheme, weightSchemeNames } from "./quant.js";
import "./gguf-quant.js"; // registers the GGUF weight schemes (pure types, file mixes, "gguf" exact)
export { ggufSchemeNames, ggufMixBasis } from "./gguf-quant.js";
export { llamaCppContext, llamaCppCaches } from "./engines/llamacpp.js";
export type { LlamaCppContext, LlamaCppCacheDetail } from "./engines/llamacpp.js";
export { ggmlType, ggmlRowBytes, GGML_TYPES } from "./ggml.js";
export { speed, calibrate, defaultEfficiency, decodeWeightBytes } from "./throughput.js";
export type { DeviceCaps, DeviceClass, Efficiency, SpeedRequest, SpeedResult, MeasuredRun } from "./throughput.js";
export { formatBytes, formatCount } from "./format.js";
export { LIMITS, checkLimit, limitReason } from "./limits.js";
export type { LimitName } from "./limits.js";
