// The embedded llama.cpp engine for `hwledger run` when the host has no llama-server: the prebuilt llama.cpp of
// node-llama-cpp, in its own process so the launcher can stop it with SIGINT and read its log like llama-server's.
// llama.cpp's own log lines (load_tensors, llama_kv_cache, sched_reserve, …) go to stderr verbatim; the timing
// lines are printed in llama-server's print_timing format (tools/server/server.cpp) from times measured here.
// Usage: node llama-embedded.mjs '<json: {model, contextSize, sequences, kvTypeK, kvTypeV, batchSize, ubatch?,
//   flashAttention?, threads?, prompt?, promptTokens?, gen}>'
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const opts = JSON.parse(process.argv[2] ?? "{}");
let stopping = false;
process.on("SIGINT", () => (stopping = true));
process.on("SIGTERM", () => (stopping = true));

// The last line llama.cpp wrote about a refusal: node-llama-cpp's own error ("Failed to create context") says less.
// A line saying "error" (llama_model_load: error loading model: …) names the cause better than a later "failed".
let lastRefusal = "";
let lastError = "";
const log = (line) => {
  if (!line.startsWith("Failed simulating")) {
    if (/error/i.test(line)) lastError = line.trim();
    else if (/^(llama_init_from_model|llama_model_load|gguf_init_from_file)\b|failed/i.test(line)) lastRefusal = line.trim();
  }
  process.stderr.write(line.endsWith("\n") ? line : line + "\n");
};

function timing(label, ms, n) {
  const perTok = n > 0 ? ms / n : 0;
  const perSec = ms > 0 ? (1000 * n) / ms : 0;
  return `${label} = ${ms.toFixed(2).padStart(10)} ms / ${String(n).padStart(5)} tokens (${perTok.toFixed(2).padStart(8)} ms per token, ${perSec.toFixed(2).padStart(10)} tokens per second)`;
}

try {
  const llama = await getLlama({
    gpu: false,
    build: "never",
    logLevel: LlamaLogLevel.debug,
    // Graph-input dumps are thousands of lines per reserve and say nothing about memory or speed.
    logger: (_level, message) => { if (!message.startsWith("llama_graph_n_input_tensors")) log(message); },
  });
  const model = await llama.loadModel({ modelPath: opts.model, gpuLayers: 0 });
  const ctxOpts = {
    contextSize: opts.contextSize,
    sequences: opts.sequences ?? 1,
    batchSize: opts.batchSize,
    // llama.cpp refuses a quantized V cache without flash attention (llama_init_from_model); KV bytes are the same.
    flashAttention: opts.flashAttention ?? !["f16", "f32", "bf16", undefined].includes(opts.kvTypeV?.toLowerCase()),
    ...(opts.threads ? { threads: opts.threads } : {}),
    ...(opts.kvTypeK ? { experimentalKvCacheKeyType: opts.kvTypeK.toUpperCase() } : {}),
    ...(opts.kvTypeV ? { experimentalKvCacheValueType: opts.kvTypeV.toUpperCase() } : {}),
  };
  const context = await model.createContext(ctxOpts);
  log(`hwledger_embedded: context ready, n_ctx_seq = ${context.contextSize}, sequences = ${context.totalSequences}`);
  const seq = context.getSequence();
  let tokens;
  if (opts.promptTokens) {
    const unit = model.tokenize(" hello world the a b c");
    tokens = [];
    while (tokens.length < opts.promptTokens) tokens.push(...unit);
    tokens = tokens.slice(0, opts.promptTokens);
  } else tokens = model.tokenize(opts.prompt ?? "hello world");
  const gen = opts.gen ?? 16;
  const t0 = performance.now();
  let tFirst = 0;
  let produced = 0;
  if (!stopping && gen > 0) {
    for await (const _tok of seq.evaluate(tokens, { temperature: 0 })) {
      if (produced === 0) tFirst = performance.now();
      produced++;
      if (produced >= gen || stopping) break;
    }
  } else if (!stopping) {
    await seq.evaluateWithoutGeneratingNewTokens(tokens);
    tFirst = performance.now();
  }
  const tEnd = performance.now();
  if (tFirst === 0) tFirst = tEnd;
  // The first generated token comes out of the prompt's forward pass; the rest are decode steps.
  log(timing("prompt eval time", tFirst - t0, tokens.length));
  log(timing("       eval time", tEnd - tFirst, Math.max(0, produced - 1)));
  log(`      total time = ${(tEnd - t0).toFixed(2).padStart(10)} ms / ${String(tokens.length + Math.max(0, produced - 1)).padStart(5)} tokens`);
  if (stopping) log("hwledger_embedded: interrupted");
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  await new Promise((r) => setTimeout(r, 50)); // let queued llama.cpp log callbacks through before exiting
  process.exit(stopping ? 130 : 0);
} catch (e) {
  const msg = String(e?.message ?? e).split("\n")[0];
  // llama.cpp's log lines reach JS through an async callback and can arrive after the rejection: wait for them.
  for (let i = 0; i < 50 && !lastError; i++) await new Promise((r) => setTimeout(r, 20));
  const cause = lastError || lastRefusal;
  log(`hwledger_embedded: error: ${msg}${cause && !cause.includes(msg) ? ` (${cause})` : ""}`);
  process.exit(1);
}
