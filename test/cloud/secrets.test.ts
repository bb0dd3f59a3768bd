// API keys never leave their header: plant one key per provider (Vast.ai's in its own config file, RunPod's and
// Lambda's in the environment), run every cloud path including refusals whose bodies quote the key back, then
// grep stdout, stderr, --json, every file the run wrote (ledger segments, state), the ledger as decoded rows and
// the site's data loaders for each key.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryLedger } from "../../lib/ledger/index.js";
import { ROOT } from "../helpers/cli.js";
import { cloudEnv, filesUnder, runCliAsync, tinyGguf } from "../helpers/cloud-env.js";
import { startSshd } from "../helpers/sshd.js";
import type { Sshd } from "../helpers/sshd.js";
import { startStandIn } from "../helpers/standin/core.js";
import type { StandIn } from "../helpers/standin/core.js";
import { lambdaShape } from "../helpers/standin/lambda.js";
import { runpodShape } from "../helpers/standin/runpod.js";
import { vastShape } from "../helpers/standin/vast.js";

const rnd = () => Math.random().toString(36).slice(2, 12);
const KEYS = { vast: `PLANTEDvast${rnd()}KEY`, runpod: `rpa_PLANTED${rnd()}`, lambda: `secret_PLANTED${rnd()}`, wrong: `PLANTEDwrong${rnd()}` };
let sshd: Sshd;
let stands: StandIn[];
let gguf: string;

beforeAll(async () => {
  sshd = await startSshd();
  const ssh = { host: "127.0.0.1", port: sshd.port, user: sshd.user };
  stands = [await startStandIn(vastShape, KEYS.vast, { ssh }), await startStandIn(runpodShape, KEYS.runpod, { ssh }), await startStandIn(lambdaShape, KEYS.lambda, { ssh })];
  gguf = tinyGguf().path;
});
afterAll(async () => {
  for (const s of stands ?? []) await s.close();
  await sshd?.stop();
});

describe("planted API keys", () => {
  it("appear in no output, no file written, no ledger row and no site data", async () => {
    const [vast, runpod, lambda] = stands;
    for (const s of stands) s.script.echoAuth = true;
    const e = cloudEnv({ sshKeyFile: sshd.keyFile, standins: stands });
    // Vast.ai's key from its CLI's own file under XDG_CONFIG_HOME (= HOME/.config here), not the environment.
    delete e.env.VAST_API_KEY;
    const keyFile = join(e.env.XDG_CONFIG_HOME, "vastai", "vast_api_key");
    mkdirSync(join(e.env.XDG_CONFIG_HOME, "vastai"), { recursive: true });
    writeFileSync(keyFile, `${KEYS.vast}\n`);
    const outputs: string[] = [];
    const run = async (args: string[], env = e.env) => {
      const r = await runCliAsync(args, env);
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    const ssh = ["--ssh-user", sshd.user];
    await run(["cloud", "offers"]);
    await run(["cloud", "offers", "--json"]);
    const up = await run(["cloud", "up", "--offer", "vastai/11684738", "--yes", ...ssh, "--json"]);
    expect(up.code, up.stderr).toBe(0);
    await run(["cloud", "status"]);
    await run(["cloud", "status", "--json"]);
    await run(["cloud", "down", "--all", "--json"]);
    const rented = await run(["dispatch", "--gguf", gguf, "--engine", "llama.cpp", "--context", "512", "--tokens", "8", "--rent", "--yes", ...ssh, "--remote-hwledger", ROOT, "--ssh-key-name", "k", "--ssh-port", String(sshd.port), "--spend-limit", "40", "--json"]);
    expect(rented.code, rented.stderr).toBe(0);
    // Refusals that quote the key they got back: the message keeps the provider's words, not the key.
    const refused = [
      await run(["cloud", "up", "--offer", "vastai/11684738", "--yes"], { ...e.env, VAST_API_KEY: KEYS.wrong }),
      await run(["cloud", "up", "--offer", "runpod/NVIDIA GeForce RTX 4090 (community)", "--yes"], { ...e.env, RUNPOD_API_KEY: KEYS.wrong }),
      await run(["cloud", "offers", "--provider", "lambda", "--json"], { ...e.env, LAMBDA_API_KEY: KEYS.wrong }),
      await run(["cloud", "status"], { ...e.env, LAMBDA_API_KEY: KEYS.wrong }),
      await run(["dispatch", "--gguf", gguf, "--engine", "llama.cpp", "--context", "512", "--tokens", "8", "--rent", "--yes"], { ...e.env, RUNPOD_API_KEY: KEYS.wrong }),
    ];
    expect(refused.map((r) => r.code)).toEqual([2, 2, 0, 0, 2]);
    expect(refused[0].stderr).toMatch(/Invalid user key \(got Bearer \[redacted\]\)/);
    expect(JSON.parse(refused[2].stdout).sources[0].reason).toMatch(/\(got Bearer \[redacted\]\)/);
    runpod.script.createError = "no-capacity";
    await run(["cloud", "up", "--offer", "runpod/NVIDIA GeForce RTX 4090 (community)", "--yes", ...ssh]);

    // The stand-ins got every key in the Authorization header and never in a URL.
    for (const s of stands) expect(s.violations.filter((v) => /in the URL|Authorization/.test(v))).toEqual([]);
    expect(lambda.seen.length).toBeGreaterThan(0);

    const secrets = Object.values(KEYS);
    const leaks = (where: string, text: string) => secrets.filter((k) => text.includes(k)).map((k) => `${k} in ${where}`);
    const found: string[] = [];
    outputs.forEach((o, i) => found.push(...leaks(`output ${i}`, o)));
    for (const f of filesUnder(e.dir)) if (f !== keyFile) found.push(...leaks(f.slice(e.dir.length), readFileSync(f).toString("latin1")));
    const rows = await queryLedger(e.ledger, "SELECT * FROM events");
    expect(rows.length).toBeGreaterThan(10);
    found.push(...leaks("decoded ledger rows", JSON.stringify(rows)));
    for (const loader of ["billing.json.ts", "events.arrow.ts", "fleet.json.ts"]) {
      const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/data", loader)], { cwd: ROOT, env: { ...process.env, ...e.env }, maxBuffer: 64 << 20 });
      expect(r.status, r.stderr.toString()).toBe(0);
      found.push(...leaks(`site data ${loader}`, r.stdout.toString("latin1")));
    }
    expect(found).toEqual([]);
  }, 240_000);
});
