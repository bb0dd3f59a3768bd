// ggml tensor types: block size (elements) and bytes per block.
// Source: ggml/src/ggml.c `type_traits[]` (blck_size, type_size) and ggml/src/ggml-common.h block structs;
// the numeric ids are `enum ggml_type` in ggml/include/ggml.h (they are what GGUF headers store).

export interface GgmlType {
  id: number;
  name: string;
  blockSize: number;
  typeSize: number;
}

const TABLE: Array<[string, number, number, number]> = [
  // name, id, elements per block, bytes per block
  ["F32", 0, 1, 4],
  ["F16", 1, 1, 2],
  ["Q4_0", 2, 32, 18],
  ["Q4_1", 3, 32, 20],
  ["Q5_0", 6, 32, 22],
  ["Q5_1", 7, 32, 24],
  ["Q8_0", 8, 32, 34],
  ["Q8_1", 9, 32, 36],
  ["Q2_K", 10, 256, 84],
  ["Q3_K", 11, 256, 110],
  ["Q4_K", 12, 256, 144],
  ["Q5_K", 13, 256, 176],
  ["Q6_K", 14, 256, 210],
  ["Q8_K", 15, 256, 292],
  ["IQ2_XXS", 16, 256, 66],
  ["IQ2_XS", 17, 256, 74],
  ["IQ3_XXS", 18, 256, 98],
  ["IQ1_S", 19, 256, 50],
  ["IQ4_NL", 20, 32, 18],
  ["IQ3_S", 21, 256, 110],
  ["IQ2_S", 22, 256, 82],
  ["IQ4_XS", 23, 256, 136],
  ["I8", 24, 1, 1],
  ["I16", 25, 1, 2],
  ["I32", 26, 1, 4],
  ["I64", 27, 1, 8],
  ["F64", 28, 1, 8],
  ["IQ1_M", 29, 256, 56],
  ["BF16", 30, 1, 2],
  ["TQ1_0", 34, 256, 54],
  ["TQ2_0", 35, 256, 66],
  ["MXFP4", 39, 32, 17],
];

const BY_NAME = new Map<string, GgmlType>();
const BY_ID = new Map<number, GgmlType>();
for (const [name, id, blockSize, typeSize] of TABLE) {
  const t = { id, name, blockSize, typeSize };
  BY_NAME.set(name, t);
  BY_ID.set(id, t);
}

export function ggmlType(nameOrId: string | number): GgmlType | undefined {
  return typeof nameOrId === "number" ? BY_ID.get(nameOrId) : BY_NAME.get(nameOrId.toUpperCase());
}

/** ggml_row_size(): bytes of `elements` values of this type (elements must be a multiple of the block size). */
export function ggmlRowBytes(type: GgmlType, elements: number): number {
  return (type.typeSize * elements) / type.blockSize;
}

/** Bytes per element, as a fraction (Q8_0 = 34/32). */
export function ggmlBytesPerElement(type: GgmlType): number {
  return type.typeSize / type.blockSize;
}

export const GGML_TYPES: readonly GgmlType[] = [...BY_ID.values()];
