// A port of ggml-alloc's graph allocator (ggml/src/ggml-alloc.c, llama.cpp shipped in node-llama-cpp 3.22.1) over a
// symbolic graph: the peak offset ggml_gallocr_reserve reaches is the compute buffer llama.cpp prints.

/** A tensor of the symbolic graph. Weights and KV cache tensors live in other buffers and are left out. */
export interface GTensor {
  bytes: number;
  /** ggml_op_can_inplace (ggml-alloc.c): ADD, MUL, RMS_NORM, ROPE, SOFT_MAX, SCALE, UNARY… */
  inplace?: boolean;
  /** The tensor this one is a view of (ggml_impl_is_view: view_src); views of external tensors have `external`. */
  viewOf?: GTensor;
  /** A tensor outside the allocator (a weight, the KV cache, or a view of one). */
  external?: boolean;
  /** Graph inputs (ggml_set_input): leafs, placed before any node. */
  input?: boolean;
  /** Graph outputs (ggml_set_output) are never freed (ggml_gallocr_free_node). */
  output?: boolean;
  srcs: GTensor[];
  /** The allocator's hash entry (ggml_gallocr hash_node), reset by each gallocPeak. */
  slot?: Slot;
}

interface Block { offset: number; size: number }

/** ggml_dyn_tallocr with one chunk (the CPU buffer's max size is SIZE_MAX, so a second chunk is never opened). */
class DynAllocator {
  free: Block[] = [{ offset: 0, size: Number.MAX_SAFE_INTEGER }];
  maxSize = 0;
  constructor(private readonly alignment: number) {}
  private align(n: number): number {
    return Math.ceil(n / this.alignment) * this.alignment;
  }
  /** ggml_dyn_tallocr_alloc: best fit among the blocks before the last, else the last block. */
  alloc(bytes: number): number {
    const size = this.align(bytes);
    let best = -1;
    let bestSize = Infinity;
    for (let i = 0; i < this.free.length - 1; i++) {
      const b = this.free[i];
      if (b.size >= size && b.size <= bestSize) {
        best = i;
        bestSize = b.size;
      }
    }
    if (best < 0) best = this.free.length - 1;
    const b = this.free[best];
    const offset = b.offset;
    b.offset += size;
    b.size -= size;
    if (b.size === 0) this.free.splice(best, 1);
    this.maxSize = Math.max(this.maxSize, offset + size);
    return offset;
  }
  /** ggml_dyn_tallocr_free_bytes: merge with a neighbour block, else insert sorted by offset. */
  freeBytes(offset: number, bytes: number): void {
    const size = this.align(bytes);
    const f = this.free;
    for (let i = 0; i < f.length; i++) {
      const b = f[i];
      if (b.offset + b.size === offset) {
        b.size += size;
        if (i < f.length - 1 && b.offset + b.size === f[i + 1].offset) {
          b.size += f[i + 1].size;
          f.splice(i + 1, 1);
        }
        return;
      }
      if (offset + size === b.offset) {
        b.offset = offset;
        b.size += size;
        if (i > 0 && f[i - 1].offset + f[i - 1].size === b.offset) {
          f[i - 1].size += b.size;
          f.splice(i, 1);
        }
        return;
      }
    }
    let at = 0;
    while (at < f.length && f[at].offset < offset) at++;
    f.splice(at, 0, { offset, size });
  }
}

interface Slot { allocated: boolean; offset: number; children: number; views: number }

/**
 * ggml_gallocr_alloc_graph_impl over `nodes` (in graph order; views are nodes too) with the leaf inputs `leafs`
 * placed first; returns the buffer's peak (ggml_gallocr_get_buffer_size). `alignment`: ggml_backend_buft_get_alignment
 * (CPU: TENSOR_ALIGNMENT 32).
 */
export function gallocPeak(leafs: GTensor[], nodes: GTensor[], alignment = 32): number {
  const a = new DynAllocator(alignment);
  // ggml_hash_set_reset + memset of hash_values: every tensor starts unallocated, without children or views.
  const reset = (t: GTensor) => void (t.slot = { allocated: false, offset: 0, children: 0, views: 0 });
  leafs.forEach(reset);
  for (const n of nodes) {
    reset(n);
    n.srcs.forEach(reset);
    if (n.viewOf) reset(n.viewOf);
  }
  const slot = (t: GTensor): Slot => t.slot!;
  // ggml_gallocr_allocate_node: views and external tensors take no memory; an in-place op reuses a parent it is the
  // only consumer of, unless the parent is a graph output.
  const allocate = (t: GTensor): void => {
    const h = slot(t);
    if (h.allocated || t.viewOf || t.external) return;
    h.allocated = true;
    if (t.inplace) {
      for (const p of t.srcs) {
        const ph = slot(p);
        // ggml_gallocr_is_own: the parent's hash entry is allocated; a view's never is (views take no memory), so
        // no op runs in place through a view (ROPE of a reshaped Q/K gets its own tensor).
        if (!ph.allocated || p.output || p.viewOf?.output) continue;
        if (ph.children !== 1 || ph.views !== 0) continue;
        // ggml_are_same_layout (a broadcast operand differs), so ggml_gallocr_free_extra_space has no tail to free.
        if (p.bytes !== t.bytes) continue;
        ph.allocated = false;
        h.offset = ph.offset;
        return;
      }
    }
    h.offset = a.alloc(t.bytes);
  };
  const freeNode = (t: GTensor): void => {
    if (t.output) return;
    const h = slot(t);
    a.freeBytes(h.offset, t.bytes);
    h.allocated = false;
  };
  for (const l of leafs) allocate(l);
  for (const n of nodes) {
    if (n.viewOf) slot(n.viewOf).views++;
    for (const s of n.srcs) slot(s).children++;
  }
  for (const n of nodes) {
    for (const p of n.srcs) allocate(p);
    allocate(n);
    for (const p of n.srcs) {
      const ph = slot(p);
      ph.children--;
      if (ph.children === 0 && ph.views === 0) {
        if (p.viewOf) {
          const vh = slot(p.viewOf);
          vh.views--;
          if (vh.views === 0 && vh.children === 0 && vh.allocated) freeNode(p.viewOf);
        } else if (ph.allocated) freeNode(p);
      }
    }
  }
  return a.maxSize;
}
