// GGUF headers: architecture and exact tensor bytes. STARTER: implemented by the llama.cpp work.
import { InputError } from "../lib/calc/index.js";
import type { ResolvedModel } from "./models.js";

export async function resolveGguf(file: string): Promise<ResolvedModel> {
  throw new InputError(`${file}: GGUF planning is not available yet`);
}
