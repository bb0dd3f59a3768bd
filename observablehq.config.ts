// Observable Framework config. Offline by construction: pages import Plot/Inputs/d3/htl as bare modules from
// node_modules (no `npm:` CDN imports), no Google fonts, no DuckDB extension downloads.
import { catalogEntries } from "./loaders/catalog.js";

export default {
  root: "src/pages",
  // scripts/build-site.js builds into a temporary folder and swaps it in, so a server never sees half a site.
  output: process.env.HWLEDGER_SITE_OUT ?? "dist",
  title: "hwledger",
  // Our own stylesheet: Framework's default + light/dark themes + the Inputs styles, all from node_modules.
  style: "style.css",
  globalStylesheets: [],
  duckdb: { extensions: { json: null, parquet: null } },
  search: false,
  // No favicon request (a 404 would read as a broken page in the tests).
  head: '<link rel="icon" href="data:,">',
  pager: false,
  footer: "hwledger: engine-exact memory planning. Built offline with Observable Framework.",
  pages: [
    { name: "Capacity what-if", path: "/what-if" },
    { name: "Compare architectures", path: "/compare" },
    { name: "Fit matrix", path: "/fit-matrix" },
    { name: "Evidence", path: "/evidence" },
    { name: "Capacity reports", path: "/reports/" },
    {
      name: "Fleet",
      open: true,
      pages: [
        { name: "Fleet", path: "/fleet" },
        { name: "Ledger SQL", path: "/sql" },
        { name: "Costs", path: "/costs" },
        { name: "Dispatch", path: "/dispatch" },
        { name: "Split", path: "/split" },
      ],
    },
  ],
  // One static report per catalog model (/reports/<slug>).
  dynamicPaths: () => catalogEntries().map((e) => `/reports/${e.slug}`),
};
