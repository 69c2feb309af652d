// The API service: counts visits in Postgres and queues a job in Redis
// for the worker. Reaches both by service name (db, redis).
const http = require("http");
const { Pool } = require("pg");
const { createClient } = require("redis");

const port = Number(process.env.PORT || 8000);
const db = new Pool({ connectionString: process.env.DATABASE_URL });
const redis = createClient({ url: process.env.REDIS_URL });
redis.on("error", (err) => console.error("redis:", err.message));

async function main() {
  await redis.connect();
  await db.query("CREATE TABLE IF NOT EXISTS visits (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())");
  const server = http.createServer(async (req, res) => {
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      if (req.url === "/health") return json(200, { ok: true });
      if (req.url === "/stats" && req.method === "GET") {
        // One read of each store, by service name: db and redis.
        const visits = await db.query("SELECT count(*)::int AS n FROM visits");
        const processed = await db.query("SELECT count(*)::int AS n FROM processed").catch(() => ({ rows: [{ n: 0 }] }));
        return json(200, {
          visits: visits.rows[0].n,
          processed: processed.rows[0].n,
          queued: await redis.lLen("jobs"),
          redis: await redis.ping(),
        });
      }
      if (req.url === "/visits" && req.method === "POST") {
        const { rows } = await db.query("INSERT INTO visits DEFAULT VALUES RETURNING id");
        await redis.lPush("jobs", JSON.stringify({ visit: rows[0].id }));
        const count = await db.query("SELECT count(*)::int AS n FROM visits");
        return json(200, { visits: count.rows[0].n });
      }
      json(404, { error: "not found" });
    } catch (err) {
      console.error(err);
      json(500, { error: "internal error" });
    }
  });
  server.listen(port, "0.0.0.0", () => console.log(`api listening on ${port}`));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}

main().catch((err) => { console.error(err); process.exit(1); });
