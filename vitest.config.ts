import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // HOME, XDG folders and hwledger's default paths point at a temp folder in every test file and spawned CLI.
    setupFiles: ["test/helpers/hermetic.ts"],
    // Generous: real processes (sshd, DuckDB children, llama.cpp) on a busy 2-core machine; time is measured in bench, not here.
    testTimeout: 120_000,
    hookTimeout: 420_000,
    pool: "forks",
    // Browser, sshd and engine tests start real processes; keep the 2-core machine from thrashing.
    maxWorkers: 2,
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
  },
});
