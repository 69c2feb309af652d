// The worker: takes jobs from the Redis list "jobs" and records them in
// Postgres. Runs until stopped; a job in flight finishes first.
const { Pool } = require("pg");
const { createClient } = require("redis");

const db = new Pool({ connectionString: process.env.DATABASE_URL });
const redis = createClient({ url: process.env.REDIS_URL });
let stopping = false;
process.on("SIGTERM", () => { stopping = true; });

async function main() {
  await redis.connect();
  await db.query("CREATE TABLE IF NOT EXISTS processed (visit int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())");
  while (!stopping) {
    const job = await redis.brPop("jobs", 1);
    if (!job) continue;
    const { visit } = JSON.parse(job.element);
    await db.query("INSERT INTO processed (visit) VALUES ($1) ON CONFLICT DO NOTHING", [visit]);
    console.log("processed visit", visit);
  }
  await redis.quit();
  await db.end();
}

main().catch((err) => { console.error(err); process.exit(1); });
