// MLX memory profile. STARTER: plain context × heads × dtype; to be replaced by the engine's exact rules.
import { kvBytes } from "../kvdtype.js";
import type { EngineProfile } from "./profile.js";
import { isTokenProportional, kvElemsPerToken, tokensKept } from "./common.js";

export const mlxProfile: EngineProfile = {
  id: "mlx",
  label: "MLX",
  cache(model, dep) {
    const perLayer: number[] = [];
    let total = 0;
    let bytesPerToken = 0;
    for (const l of model.layers) {
      const c = l.cache;
      let bytes: number;
      if (c.kind === "recurrent") {
        bytes = (c.convElems + c.stateElems) * 4 * dep.seqs;
      } else {
        const e = kvElemsPerToken(c, "expanded");
        const perTok = kvBytes(dep.kvDtypeK, e.k) + kvBytes(dep.kvDtypeV, e.v);
        if (c.kind === "full" || c.kind === "mla") bytesPerToken += perTok;
        bytes = isTokenProportional(c) || c.kind === "cross" ? perTok * tokensKept(c, dep.context) * dep.seqs : 0;
      }
      perLayer.push(bytes);
      total += bytes;
    }
    return { perLayer, total, bytesPerToken, basis: ["MLX: starter estimate (context × KV heads × head dim × dtype)"] };
  },
  activations: () => ({ bytes: 0, basis: "not estimated yet" }),
  overhead: () => ({ bytes: 0, basis: "not estimated yet" }),
};
