// The web service: serves the page, and forwards /api/* to the API
// service by its service name. No dependencies.
const http = require("http");

const port = Number(process.env.PORT || 3000);
const api = new URL(process.env.API_URL || "http://api:8000");

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Full-stack app</title></head>
<body><main>
  <h1>It works.</h1>
  <p>Visits recorded by the API: <span id="visits">…</span></p>
  <script>
    fetch("/api/visits", { method: "POST" }).then(r => r.json())
      .then(d => { document.getElementById("visits").textContent = d.visits; })
      .catch(() => { document.getElementById("visits").textContent = "the API is not reachable"; });
  </script>
</main></body></html>`;

const server = http.createServer((req, res) => {
  if (req.url.startsWith("/api/")) {
    const upstream = http.request(
      { host: api.hostname, port: api.port, method: req.method, path: req.url.slice(4), headers: req.headers },
      (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); },
    );
    upstream.on("error", () => { res.writeHead(502, { "content-type": "application/json" }); res.end('{"error":"api unreachable"}'); });
    req.pipe(upstream);
    return;
  }
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(page);
});

server.listen(port, "0.0.0.0", () => console.log(`web listening on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
