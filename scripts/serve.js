// Static server for dist/ on 127.0.0.1 with clean URLs (/what-if -> what-if.html, /reports/ -> reports/index.html).
// Shared by `npm start`, the page tests and the bench.
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".arrow": "application/vnd.apache.arrow.file",
  ".parquet": "application/octet-stream",
  ".csv": "text/csv; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

/** Maps a URL path to a file under dir, or undefined (also for paths escaping dir). */
export function resolveFile(dir, urlPath) {
  let p;
  try {
    p = decodeURIComponent(urlPath.split("?")[0]);
  } catch {
    return undefined;
  }
  const full = normalize(join(dir, p));
  if (full !== normalize(dir) && !full.startsWith(normalize(dir + sep))) return undefined;
  const candidates = p.endsWith("/") ? [join(full, "index.html")] : [full, full + ".html", join(full, "index.html")];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** Serves dir; resolves to {url, close()} once listening. port 0 picks a free port. */
export function serve({ dir, port = 0, host = "127.0.0.1" }) {
  const server = createServer((req, res) => {
    const file = resolveFile(dir, req.url ?? "/");
    if (!file) {
      const nf = join(dir, "404.html");
      res.writeHead(404, { "content-type": TYPES[".html"] });
      if (existsSync(nf)) createReadStream(nf).pipe(res);
      else res.end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const a = server.address();
      resolve({ url: `http://${host}:${a.port}`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
