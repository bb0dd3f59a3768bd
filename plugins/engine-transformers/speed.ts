// transformers' speed part: no transformers speed result is kept, so its kernels are a plain roofline from assumed
// fractions of each device class's peaks (said in every prediction's basis): decode at a fraction of peak
// bandwidth (CUDA: aiconfigurator's empirical factor 0.8 for NVIDIA parts), prefill at a fraction of the 16-bit
// tensor peak. Measured runs in the ledger calibrate it per device.
import { assumedKernels } from "../../lib/calc/index.js";
import type { DeviceClass, EngineSpeed } from "../../lib/calc/index.js";

const FRACTIONS: Readonly<Record<DeviceClass, { bandwidth: number; compute: number }>> = {
  cuda: { bandwidth: 0.8, compute: 0.5 },
  rocm: { bandwidth: 0.7, compute: 0.4 },
  metal: { bandwidth: 0.55, compute: 0.5 },
  cpu: { bandwidth: 0.6, compute: 0.3 },
  other: { bandwidth: 0.5, compute: 0.3 },
};

export const TRANSFORMERS_KERNELS: EngineSpeed = {
  kernels(device, shape) {
    const f = FRACTIONS[device.deviceClass];
    const basis = `transformers: decode at ${f.bandwidth} of peak bandwidth${device.deviceClass === "cuda" ? " (aiconfigurator's NVIDIA factor)" : " (assumption)"}, prefill at ${f.compute} of the 16-bit peak (assumption); no transformers result kept`;
    return assumedKernels(device, { ...f, ubatch: shape.options?.maxNumBatchedTokens ?? Infinity, basis });
  },
};
