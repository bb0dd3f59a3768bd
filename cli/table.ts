// Plain text columns for the CLI's human output (cli-table3 without borders): padded cells, two spaces between
// columns, numbers right-aligned where the caller says; no trailing spaces. Cells are made terminal-safe first
// (safeText), so padding counts what is shown.
import Table from "cli-table3";
import { safeText } from "./output.js";

const NO_BORDER = {
  top: "", "top-mid": "", "top-left": "", "top-right": "", bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  ",
};

/** The rows as lines of aligned columns (for printLines). */
export function columns(rows: Array<Array<string | number>>, align: Array<"left" | "right"> = []): string[] {
  if (!rows.length) return [];
  const t = new Table({ chars: NO_BORDER, style: { head: [], border: [], "padding-left": 0, "padding-right": 0 }, colAligns: align });
  t.push(...rows.map((r) => r.map((c) => safeText(String(c)))));
  return t.toString().split("\n").map((l) => l.trimEnd());
}
