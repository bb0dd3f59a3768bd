// collect --hosts over 50 SSH hosts: 10 real OpenSSH servers on 127.0.0.1, each listening on 5 ports (a host per
// port, each its own SSH connection and ledger host), default concurrency (16), a host timeout long enough that a
// loaded machine measures its slowness rather than failing (--host-timeout 600). Wall time of the
// whole CLI call, median of 3 on one ledger (the first call registers the devices, the next ones only sample).
// Every host here shares this machine's CPUs with the others and with sshd, so a real fleet answers faster.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { knownHostsLines, makeKeyPair, startSshd } from "../test/helpers/sshd.js";
import type { Sshd } from "../test/helpers/sshd.js";
import type { BenchFigure } from "./run.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export async function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), "hwledger-bench-fanout-"));
  const servers: Sshd[] = [];
  try {
    const key = makeKeyPair(dir, "user");
    for (let i = 0; i < 10; i++) servers.push(await startSshd({ ports: 5, userKey: key }));
    writeFileSync(join(dir, "known_hosts"), knownHostsLines(servers));
    const urls = servers.flatMap((s) => s.ports.map((p) => `ssh://${s.user}@127.0.0.1:${p}`));
    writeFileSync(join(dir, "hosts"), urls.join("\n") + "\n");
    const env = {
      ...process.env,
      HWLEDGER_SSH_KEY: key.keyFile,
      HWLEDGER_KNOWN_HOSTS: join(dir, "known_hosts"),
      XDG_STATE_HOME: join(dir, "state"),
    };
    const once = () => {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [join(ROOT, "bin/hwledger.js"), "collect", "--hosts", join(dir, "hosts"), "--ledger", join(dir, "ledger"), "--host-timeout", "600", "--json"], { encoding: "utf8", env });
      const s = (performance.now() - t0) / 1000;
      if (r.status !== 0) throw new Error(`collect --hosts exited ${r.status}: ${r.stderr.trim()}`);
      const j = JSON.parse(r.stdout) as { collected: number };
      if (j.collected !== urls.length) throw new Error(`collected ${j.collected} of ${urls.length} hosts`);
      return s;
    };
    const walls = [once(), once(), once()].sort((a, b) => a - b);
    return [{ name: "fanout_50_hosts_s", value: Number(walls[1].toFixed(2)), unit: "s" }];
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
