// Writes a real safetensors file (8-byte little-endian header length, JSON header, tensor data) for tests.
import { writeFileSync } from "node:fs";

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, I8: 1, U8: 1, I32: 4 };

export function writeSafetensors(file: string, tensors: Array<{ name: string; dtype: string; shape: number[] }>, metadata?: Record<string, string>): number {
  let offset = 0;
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json, Buffer.alloc(offset)]));
  return offset;
}
