// Pipeline stages: vllm/distributed/utils.py get_pp_indices — an even split, the remainder going to the stages
// before the last.

export function ppStageLayers(nLayers: number, pp: number): number[][] {
  const sizes = new Array<number>(pp).fill(Math.floor(nLayers / pp));
  const rem = nLayers % pp;
  for (let i = 2; i < rem + 2; i++) sizes[pp - i] += 1;
  const out: number[][] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(Array.from({ length: s }, (_, k) => start + k));
    start += s;
  }
  return out;
}

/** The stage of every layer (layer index → stage). */
export function stageOfLayer(stages: number[][], nLayers: number): Int32Array {
  const of = new Int32Array(nLayers);
  stages.forEach((s, k) => {
    for (const i of s) of[i] = k;
  });
  return of;
}
