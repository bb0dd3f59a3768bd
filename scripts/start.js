#!/usr/bin/env node
// npm start: until the site exists, print a plan for the default model on the default GPU.
import { spawnSync } from "node:child_process";
const r = spawnSync(process.execPath, ["bin/hwledger.js", "plan", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--engine", "vllm", "--context", "8192"], { stdio: "inherit" });
process.exitCode = r.status ?? 1;
