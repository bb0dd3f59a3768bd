// npm run bench: runs every bench/*.bench.ts and prints one JSON object per line {"name","value","unit"}.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
}

const dir = fileURLToPath(new URL("./", import.meta.url));
const only = process.argv[2];
for (const f of readdirSync(dir).filter((f) => f.endsWith(".bench.ts")).sort()) {
  if (only && !f.includes(only)) continue;
  const mod = (await import(dir + f)) as { run: () => Promise<BenchFigure[]> | BenchFigure[] };
  try {
    for (const fig of await mod.run()) process.stdout.write(JSON.stringify(fig) + "\n");
  } catch (e) {
    process.stderr.write(`bench ${f} failed: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
