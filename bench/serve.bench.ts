// The central ledger over mutual TLS on this machine (issue 17): `hwledger serve` as a child process, 100 agents with
// their own certificates pushing their spools at once (the real spool and mTLS client, in this process), timed
// from the first request to the last acknowledgement: events durably in the ledger per second (goal ≥ 100,000).
// And the peak RSS of the agent as it runs (`hwledger agent --once`: one real collection of this machine plus a
// backlog of 50,000 spooled events from a server outage, all pushed), its high-water mark read at exit (goal < 100 MB).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fleetCa, eventLines, pushAll, spoolAgents, startServe } from "../test/helpers/fleet-serve.js";
import { BIN_PATH, ROOT } from "../test/helpers/cli.js";
import { Spool } from "../collector/agent/spool.js";
import { peakRss } from "./peak-rss.js";
import type { BenchFigure } from "./run.js";

const AGENTS = 100;
const PER_AGENT = 5000;

export async function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), "hwledger-bench-serve-"));
  const certs = join(dir, "ca");
  try {
    const names = await fleetCa(certs, AGENTS);
    const { agents, ids } = await spoolAgents(join(dir, "spools"), names, PER_AGENT);
    const s = await startServe(join(dir, "ledger"), certs);
    let perSecond: number;
    try {
      const t0 = performance.now();
      const r = await pushAll(s.url, certs, agents, Date.now() + 600_000);
      const secs = (performance.now() - t0) / 1000;
      if (!r.every((x) => x.done)) throw new Error("not every agent was acknowledged");
      perSecond = Math.round(ids / secs);
    } finally {
      s.child.kill("SIGTERM");
      await s.exited;
    }

    const rss = peakRss(dir);
    const backlog = await new Spool(join(dir, "spool-rss")).open();
    await backlog.add(eventLines(names[0], 50_000));
    const s2 = await startServe(join(dir, "ledger-rss"), certs);
    try {
      const r = spawnSync(process.execPath, [...rss.nodeArgs, BIN_PATH, "agent", "--once", "--server", s2.url, "--certs", certs, "--name", names[0], "--spool", join(dir, "spool-rss")], {
        cwd: ROOT,
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`agent --once exited ${r.status}: ${r.stderr}`);
    } finally {
      s2.child.kill("SIGTERM");
      await s2.exited;
    }
    return [
      { name: "serve_ingest_events_per_s", value: perSecond, unit: "events/s" },
      { name: "agent_peak_rss_mb", value: rss.maxMb(), unit: "MB" },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
