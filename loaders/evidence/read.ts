// Reading a reported figure out of a verbatim log: through the engine's own parser where one exists, else from the
// table or line that prints it. Nothing here is retyped: the case says where the figure is, the log says what it is.
import { parseLlamaCppLog } from "../../plugins/engine-llamacpp/index.js";
import { parseMlxLog } from "../../plugins/engine-mlx/index.js";
import { parseOllamaLog } from "../../plugins/engine-ollama/index.js";
import { parseVllmLog } from "../../plugins/engine-vllm/index.js";
import { UNIT_SCALE } from "./schema.js";
import type { EvidenceFigure, FigureRead } from "./schema.js";

export interface ReadFigure {
  /** In bytes for memory units, else in the printed unit. */
  value: number;
  /** The number as printed (its decimals set the precision a prediction is compared at), when known. */
  printed?: string;
}

const PARSE = { "vllm-log": parseVllmLog, "llamacpp-log": parseLlamaCppLog, "mlx-log": parseMlxLog, "ollama-log": parseOllamaLog } as const;

/** Parses each log once per parser (a case file reads many figures from one log). */
export class LogReader {
  private parsed = new Map<string, unknown>();
  constructor(readonly text: string) {}

  parsedBy(parser: keyof typeof PARSE): unknown {
    let p = this.parsed.get(parser);
    if (p === undefined) this.parsed.set(parser, (p = PARSE[parser](this.text)));
    return p;
  }

  figure(f: EvidenceFigure): ReadFigure {
    const r = f.read;
    const scale = UNIT_SCALE[f.unit];
    if ("parser" in r) return this.fromParser(r);
    const printed = "table" in r ? cellNumber(pipeCell(this.text, r.table), r.match) : "listTable" in r ? cellNumber(listCell(this.text, r.listTable), r.match) : textMatch(this.text, r.text, r.nth ?? 1);
    const value = Number(printed.replace(/,/g, "")) * scale;
    // Bytes are whole numbers; other units keep the printed decimals.
    return { value: scale > 1 ? Math.round(value) : value, printed };
  }

  private fromParser(r: Extract<FigureRead, { parser: string }>): ReadFigure {
    const root = this.parsedBy(r.parser);
    const paths = Array.isArray(r.path) ? r.path : [r.path];
    let value = 0;
    for (const p of paths) {
      const v = walk(root, p);
      if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${r.parser} finds no number at ${p}`);
      value += v;
    }
    if (r.printed === undefined) return { value };
    const printed = walk(root, r.printed);
    if (typeof printed !== "string") throw new Error(`${r.parser} finds no printed text at ${r.printed}`);
    return { value, printed };
  }
}

function walk(root: unknown, path: string): unknown {
  let v = root;
  for (const key of path.split(".")) v = v === null || typeof v !== "object" ? undefined : (v as Record<string, unknown>)[key];
  return v;
}

const clean = (s: string) => s.replace(/\*\*/g, "").trim();

/** Cells of a pipe-table line ("| a | b |" or "a | b"). */
function cells(line: string): string[] {
  const t = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  return t.split("|").map(clean);
}

/** The cell of `column` in the first pipe table after `after` whose row matches every `where` cell. */
export function pipeCell(text: string, q: { after?: string | string[]; where: Record<string, string>; column: string }): string {
  let lines = text.split(/\r?\n/);
  for (const after of q.after === undefined ? [] : Array.isArray(q.after) ? q.after : [q.after]) {
    const at = lines.findIndex((l) => l.includes(after));
    if (at < 0) throw new Error(`no line "${after}" in the log`);
    lines = lines.slice(at + 1);
  }
  const isSep = (l: string) => /^\s*\|?\s*:?-{2,}/.test(l);
  const head = lines.findIndex((l, i) => l.includes("|") && isSep(lines[i + 1] ?? ""));
  if (head < 0) throw new Error("no pipe table in the log");
  const header = cells(lines[head]);
  const col = header.indexOf(q.column);
  if (col < 0) throw new Error(`no column "${q.column}" (columns: ${header.join(", ")})`);
  for (const line of lines.slice(head + 2)) {
    if (!line.includes("|")) break;
    const row = cells(line);
    if (Object.entries(q.where).every(([k, v]) => row[header.indexOf(k)] === v)) return row[col] ?? "";
  }
  throw new Error(`no row ${JSON.stringify(q.where)} in the table`);
}

/** The cell at `column` of the RST list-table row whose first cell is `row`. */
export function listCell(text: string, q: { row: string; column: number }): string {
  const rows: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(\* )?- (.*)$/.exec(line);
    if (!m) continue;
    if (m[1]) rows.push([]);
    rows[rows.length - 1]?.push(m[2].trim());
  }
  const row = rows.find((r) => r[0] === q.row);
  if (!row || row[q.column] === undefined) throw new Error(`no list-table row "${q.row}" with a cell ${q.column}`);
  return row[q.column];
}

/** The number in a cell: the first group of `match`, else the first number. */
function cellNumber(cell: string, match?: string): string {
  const m = new RegExp(match ?? "(-?[\\d,]*\\.?\\d+)").exec(cell);
  if (!m) throw new Error(`no number in "${cell}"`);
  return m[1];
}

function textMatch(text: string, pattern: string, nth: number): string {
  const all = [...text.matchAll(new RegExp(pattern, "g"))];
  const m = all[nth - 1];
  if (!m || m[1] === undefined) throw new Error(`/${pattern}/ matches the log ${all.length} time(s), not ${nth}`);
  return m[1];
}
