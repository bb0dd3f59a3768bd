// Tests are hermetic (issue 12, finding 11): every test file and every CLI it spawns sees HOME, the XDG folders and
// hwledger's default paths inside a temp folder (test/helpers/hermetic.ts, vitest setupFiles), so a user's own
// ledger never leaks in. Proved the hard way too: the devices tests run under a HOME holding a poisoned ledger.
import { spawnSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeEvent } from "../lib/fleet/events.js";
import { appendEvents, defaultLedgerDir } from "../lib/ledger/index.js";
import { ROOT, runCliJson } from "./helpers/cli.js";
import { HERMETIC_ENV } from "./helpers/hermetic.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const TMP = realpathSync(tmpdir());

describe("hermetic test setup", () => {
  it("every test sees HOME, XDG folders, the default ledger, cache and known_hosts inside the temp folder", () => {
    for (const k of ["HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "HWLEDGER_LEDGER", "HWLEDGER_CACHE", "HWLEDGER_KNOWN_HOSTS"]) {
      const v = process.env[k]!;
      expect(v, k).toBe(HERMETIC_ENV[k]);
      expect(v.startsWith(TMP + "/") || v.startsWith(tmpdir() + "/"), `${k}=${v}`).toBe(true);
      expect(v.startsWith(userInfo().homedir + "/"), `${k} under the user's home`).toBe(false);
    }
    expect(homedir()).toBe(process.env.HOME);
    expect(defaultLedgerDir()).toBe(process.env.HWLEDGER_LEDGER);
  });

  it("a spawned CLI reads the temp default ledger", async () => {
    await appendEvents(defaultLedgerDir(), [
      makeEvent("device_registered", { name: "NVIDIA GeForce RTX 4090", kind: "gpu", memoryBytes: 25757220864 }, { host: "tmp-home", device_id: "GPU-tmp" }),
    ]);
    const fleet = runCliJson<any[]>(["devices"]).filter((d) => d.source === "fleet");
    expect(fleet.map((d) => [d.host, d.deviceId])).toEqual([["tmp-home", "GPU-tmp"]]);
  });

  it("the devices tests pass under a HOME whose default ledger lists a fleet device vm/cpu", async () => {
    const poisoned = mkdtempSync(join(tmpdir(), "hwledger-poisoned-home-"));
    dirs.push(poisoned);
    await appendEvents(join(poisoned, ".local", "share", "hwledger", "ledger"), [
      makeEvent("device_registered", { name: "QEMU Virtual CPU", kind: "cpu", memoryBytes: 8 * 1024 ** 3 }, { host: "vm", device_id: "vm/cpu" }),
    ]);
    const env: Record<string, string | undefined> = { ...process.env, HOME: poisoned };
    for (const k of ["XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "HWLEDGER_LEDGER", "HWLEDGER_CACHE", "HWLEDGER_KNOWN_HOSTS"]) delete env[k];
    // Without the setup file, this HOME's ledger is what a plain `hwledger devices` reads.
    const plain = spawnSync(process.execPath, [join(ROOT, "bin", "hwledger.js"), "devices", "--json"], { cwd: ROOT, env, encoding: "utf8" });
    expect(JSON.parse(plain.stdout).filter((d: { source: string }) => d.source === "fleet").map((d: { deviceId: string }) => d.deviceId)).toEqual(["vm/cpu"]);
    const r = spawnSync(join(ROOT, "node_modules", ".bin", "vitest"), ["run", "test/devices.test.ts", "--reporter=dot"], { cwd: ROOT, env, encoding: "utf8", timeout: 300_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
