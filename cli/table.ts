// Plain text columns for the CLI's human output (cli-table3 without borders): padded cells, two spaces between
// columns, numbers right-aligned where the caller says; no trailing spaces.
import Table from "cli-table3";

const NO_BORDER = {
  top: "", "top-mid": "", "top-left": "", "top-right": "", bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  ",
};

export function columns(rows: Array<Array<string | number>>, align: Array<"left" | "right"> = []): string {
  if (!rows.length) return "";
  const t = new Table({ chars: NO_BORDER, style: { head: [], border: [], "padding-left": 0, "padding-right": 0 }, colAligns: align });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString().split("\n").map((l) => l.trimEnd()).join("\n");
}
