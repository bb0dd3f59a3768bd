// Prints the plain closing line "N passed, N failed[, N skipped]" after the default reporter's summary, so any
// CI reader can count the run without knowing vitest's format.
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of testModules) {
      const failedBefore = failed;
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === "passed") passed++;
        else if (s === "failed") failed++;
        else skipped++;
      }
      // A file that failed to load, or whose setup failed (its tests then skipped), is a failure.
      if (m.state() === "failed" && failed === failedBefore) failed++;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
  }
}
