#!/usr/bin/env node
// Runs the CLI: the precompiled JavaScript in .build/ while it is newer than every source (npm install builds it),
// else the TypeScript sources through tsx, so `npx hwledger` always runs the code as it is in the tree.
import { isBuildFresh } from "../scripts/build-cli.js";

if (!process.env.HWLEDGER_FROM_SOURCE && isBuildFresh()) {
  await import("../.build/cli/index.js");
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../cli/index.ts");
}
