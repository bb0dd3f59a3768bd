// A GGUF header read to its declared end, or refused. The rules are llama.cpp's (ggml/src/gguf.cpp
// gguf_init_from_reader, and the file-bounds check of src/llama-model-loader.cpp llama_tensor_weight): magic "GGUF",
// version 2 or 3, every declared string, array, metadata entry and tensor info present in the bytes actually there,
// non-empty unique keys, no nested arrays, general.alignment a power of two, at most GGML_MAX_DIMS (4) dimensions,
// known tensor types with rows a multiple of the block size, tensor data laid out back to back from the aligned data
// section, and (when the file's size is known) every tensor's data inside the file. Work and memory are bounded by
// LIMITS.ggufHeaderBytes and LIMITS.ggufTensors; long arrays (a tokenizer's vocabulary) are counted, not kept.
import { InputError, LIMITS, checkLimit, ggmlType, limitReason } from "../lib/calc/index.js";

/** Where the header bytes come from: a local file (size known) or HTTP range requests (size if the server says). */
export interface ByteSource {
  label: string;
  size?: number;
  /** Up to `length` bytes at `position`; fewer only at the end of the data. */
  read(position: number, length: number): Promise<Buffer>;
}

/** An array too long to keep (a vocabulary): its element type and length. */
export class GgufLongArray {
  constructor(
    readonly elementType: number,
    readonly length: number,
  ) {}
}

export interface GgufTensorInfo {
  name: string;
  shape: number[];
  type: number;
  /** Bytes of data (ggml_nbytes). */
  bytes: number;
  /** Offset of its data from the start of the file. */
  offset: number;
}

export interface GgufHeader {
  version: number;
  metadata: Record<string, unknown>;
  tensors: GgufTensorInfo[];
  /** Offset of the aligned data section from the start of the file. */
  dataOffset: number;
}

const STRING = 8;
const ARRAY = 9;
/** Bytes of each fixed-size GGUF value type (gguf.cpp GGUF_TYPE_SIZE). */
const FIXED: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
/** Arrays up to this length are kept (per-layer values are at most LIMITS.layers long); longer ones are counted. */
const KEEP_ARRAY = 4096;
/** ggml.h GGML_MAX_NAME: a tensor name is shorter than 64 bytes. */
const GGML_MAX_NAME = 64;
const FIRST_READ = 1 << 20;

class NeedMore {
  constructor(readonly upTo: number) {}
}

class Truncated {
  constructor(readonly at: number) {}
}

class Cursor {
  pos = 0;
  where = "the header";
  constructor(
    readonly buf: Buffer,
    readonly le: boolean,
    /** The data ends at buf.length (the whole file, or the server said so). */
    readonly complete: boolean,
    readonly size = Infinity,
  ) {}
  need(n: number): void {
    const end = this.pos + n;
    if (end <= this.buf.length) return;
    if (this.complete || end > this.size) throw new Truncated(end);
    throw new NeedMore(end);
  }
  u32(): number {
    this.need(4);
    const v = this.le ? this.buf.readUInt32LE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.le ? this.buf.readBigUInt64LE(this.pos) : this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  /** A u64 count or size: beyond 2^53 it cannot be present in any file we read. */
  count(): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Truncated(Number.MAX_SAFE_INTEGER);
    return Number(v);
  }
  string(keep = true): string {
    const n = this.count();
    this.need(n);
    const s = keep ? this.buf.toString("utf8", this.pos, this.pos + n) : "";
    this.pos += n;
    return s;
  }
  scalar(type: number): unknown {
    const size = FIXED[type];
    this.need(size);
    const b = this.buf;
    const p = this.pos;
    this.pos += size;
    const le = this.le;
    switch (type) {
      case 0: return b.readUInt8(p);
      case 1: return b.readInt8(p);
      case 2: return le ? b.readUInt16LE(p) : b.readUInt16BE(p);
      case 3: return le ? b.readInt16LE(p) : b.readInt16BE(p);
      case 4: return le ? b.readUInt32LE(p) : b.readUInt32BE(p);
      case 5: return le ? b.readInt32LE(p) : b.readInt32BE(p);
      case 6: return le ? b.readFloatLE(p) : b.readFloatBE(p);
      case 7: return b.readUInt8(p) !== 0;
      case 10: return safe(le ? b.readBigUInt64LE(p) : b.readBigUInt64BE(p));
      case 11: return safe(le ? b.readBigInt64LE(p) : b.readBigInt64BE(p));
      default: return le ? b.readDoubleLE(p) : b.readDoubleBE(p);
    }
  }
}

const safe = (v: bigint): number | bigint => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

function value(c: Cursor, type: number, key: string, fail: (m: string) => never): unknown {
  if (type === STRING) return c.string();
  if (type in FIXED) return c.scalar(type);
  if (type !== ARRAY) return fail(`metadata "${key}" has invalid GGUF type ${type}`);
  const elementType = c.u32();
  const n = c.count();
  if (elementType === ARRAY || !(elementType === STRING || elementType in FIXED)) return fail(`metadata "${key}" is an array of invalid GGUF type ${elementType}`);
  const keep = n <= KEEP_ARRAY;
  if (elementType !== STRING) {
    c.need(n * FIXED[elementType]);
    if (!keep) {
      c.pos += n * FIXED[elementType];
      return new GgufLongArray(elementType, n);
    }
    return Array.from({ length: n }, () => c.scalar(elementType));
  }
  c.need(n * 8); // every string has at least its 8-byte length
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = c.string(keep);
    if (keep) out.push(s);
  }
  return keep ? out : new GgufLongArray(STRING, n);
}

function parse(c: Cursor, label: string): GgufHeader {
  const fail = (m: string): never => {
    throw new InputError(`${label}: not a valid GGUF file: ${m}`);
  };
  c.need(4);
  if (c.buf.toString("latin1", 0, 4) !== "GGUF") fail(`it does not start with the magic "GGUF"`);
  c.pos = 4;
  const version = c.u32();
  if (version === 1) fail("GGUF version 1 is no longer supported by llama.cpp");
  if (version !== 2 && version !== 3) fail(`unsupported GGUF version ${version}`);
  const nTensors = c.count();
  const nKv = c.count();
  checkLimit(nTensors, "ggufTensors", `${label}: its tensor count`);
  const metadata: Record<string, unknown> = {};
  for (let i = 0; i < nKv; i++) {
    c.where = `metadata entry ${i + 1} of ${nKv}`;
    const key = c.string();
    if (!key) fail(`metadata key ${i + 1} is empty`);
    if (Object.hasOwn(metadata, key)) fail(`duplicate metadata key "${key}"`);
    metadata[key] = value(c, c.u32(), key, fail);
  }
  const align = metadata["general.alignment"] ?? 32;
  if (typeof align !== "number" || !Number.isInteger(align) || align <= 0 || (align & (align - 1)) !== 0) fail(`general.alignment ${String(align)} is not a power of 2`);
  const tensors: GgufTensorInfo[] = [];
  const offsets: number[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    c.where = `tensor info ${i + 1} of ${nTensors}`;
    const name = c.string();
    if (Buffer.byteLength(name) >= GGML_MAX_NAME) fail(`tensor name "${name.slice(0, GGML_MAX_NAME)}…" is ${Buffer.byteLength(name)} bytes (at most ${GGML_MAX_NAME - 1})`);
    if (names.has(name)) fail(`duplicate tensor name "${name}"`);
    names.add(name);
    const nDims = c.u32();
    if (nDims > 4) fail(`tensor ${name} has ${nDims} dimensions (at most 4)`);
    const shape: number[] = [];
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      const ne = c.u64();
      if (ne > BigInt(Number.MAX_SAFE_INTEGER)) fail(`tensor ${name} dimension ${d} is ${ne}`);
      shape.push(Number(ne));
      elements *= Number(ne);
    }
    if (elements > Number.MAX_SAFE_INTEGER) fail(`tensor ${name} has ${elements} elements, more than any file holds`);
    const type = c.u32();
    const t = ggmlType(type);
    if (!t) fail(`tensor ${name} has ggml type ${type}, unknown to hwledger`);
    if ((shape[0] ?? 1) % t!.blockSize !== 0) fail(`tensor ${name} of type ${t!.name} has rows of ${shape[0]} elements, not a multiple of its block size ${t!.blockSize}`);
    tensors.push({ name, shape, type, bytes: (elements / t!.blockSize) * t!.typeSize, offset: 0 });
    offsets.push(Number(c.u64()));
  }
  // gguf.cpp: the data section starts at the next multiple of the alignment, tensors follow back to back, each padded.
  const dataOffset = nTensors > 0 ? Math.ceil(c.pos / (align as number)) * (align as number) : c.pos;
  let expected = 0;
  tensors.forEach((t, i) => {
    if (offsets[i] !== expected) fail(`tensor ${t.name} has data offset ${offsets[i]}, expected ${expected}`);
    t.offset = dataOffset + expected;
    expected += Math.ceil(t.bytes / (align as number)) * (align as number);
  });
  return { version, metadata, tensors, dataOffset };
}

/** Reads and checks a GGUF header; `size` of the source (when known) also bounds every tensor's data. */
export async function readGgufHeader(src: ByteSource): Promise<GgufHeader> {
  const max = LIMITS.ggufHeaderBytes.max;
  let buf = await src.read(0, src.size !== undefined ? Math.min(src.size, FIRST_READ) : FIRST_READ);
  let complete = src.size !== undefined ? buf.length >= src.size : buf.length < FIRST_READ;
  for (;;) {
    const c = new Cursor(buf, buf.length < 8 || (buf.readUInt32LE(4) & 0xffff) !== 0, complete, src.size);
    try {
      const h = parse(c, src.label);
      if (src.size !== undefined) {
        for (const t of h.tensors) {
          // llama-model-loader.cpp llama_tensor_weight: "tensor data is not within the file bounds".
          if (t.offset + t.bytes > src.size) throw new InputError(`${src.label}: truncated GGUF: the data of tensor ${t.name} ends at byte ${(t.offset + t.bytes).toLocaleString("en-US")} but the file has ${src.size.toLocaleString("en-US")} bytes`);
        }
      }
      return h;
    } catch (e) {
      if (e instanceof Truncated) {
        throw new InputError(`${src.label}: truncated GGUF header: ${c.where} needs byte ${e.at.toLocaleString("en-US")} but the ${src.size !== undefined ? "file" : "data"} ends at byte ${(src.size ?? buf.length).toLocaleString("en-US")}`);
      }
      if (!(e instanceof NeedMore)) throw e;
      if (e.upTo > max) throw new InputError(`${src.label}: GGUF header larger than ${max} bytes at ${c.where} (${limitReason("ggufHeaderBytes")})`);
      const want = Math.min(max, Math.max(buf.length * 2, e.upTo + 65536), src.size ?? Infinity);
      const more = await src.read(buf.length, want - buf.length);
      if (more.length < want - buf.length) complete = true;
      buf = Buffer.concat([buf, more]);
      if (src.size !== undefined && buf.length >= src.size) complete = true;
    }
  }
}
