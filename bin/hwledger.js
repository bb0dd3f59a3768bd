#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npx hwledger` works right after `npm install`.
import { register } from "tsx/esm/api";

register();
await import("../collector/cli.ts");
