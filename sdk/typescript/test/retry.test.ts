// Retries, backoff and the User-Agent, against a real HTTP server on
// loopback that answers what a real `berth up` cannot be made to answer on
// demand: 429 with Retry-After, 503, and a problem with per-field errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Berth, BerthError } from "../src/index.js";

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** serve answers the i-th request with answers[i] (the last one after that). */
async function serve(answers: { status: number; headers?: Record<string, string>; body?: unknown }[]) {
  const seen: Seen[] = [];
  const srv = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    req.resume();
    const a = answers[Math.min(seen.length - 1, answers.length - 1)]!;
    const problem = a.status >= 400;
    res.writeHead(a.status, { "content-type": problem ? "application/problem+json" : "application/json", ...a.headers });
    res.end(a.body === undefined ? "" : JSON.stringify(a.body));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))) };
}

const busy = { status: 503, body: { type: "about:blank", title: "Service Unavailable", status: 503, code: "unavailable", detail: "try again" } };
const org = { status: 201, body: { id: "org_1", slug: "a", name: "A", created_at: "2026-12-06T00:00:00Z" } };

test("a create is retried after 429 and 5xx with the same Idempotency-Key, honouring Retry-After", async () => {
  const s = await serve([{ status: 429, headers: { "retry-after": "1" }, body: { status: 429, code: "rate_limited", detail: "slow down" } }, busy, org]);
  try {
    const berth = new Berth({ apiKey: "sk_x", baseUrl: s.url, userAgent: "acme-builder/2.0", retry: { baseDelayMs: 1 } });
    const t0 = Date.now();
    const o = await berth.orgs.create({ name: "A" });
    assert.equal(o.id, "org_1");
    assert.ok(Date.now() - t0 >= 900, "waited for Retry-After");
    assert.equal(s.seen.length, 3);
    const keys = new Set(s.seen.map((r) => r.headers["idempotency-key"]));
    assert.equal(keys.size, 1);
    assert.match([...keys][0] as string, /^[0-9a-f-]{36}$/);
    assert.deepEqual(s.seen.map((r) => r.url), ["/api/v1/orgs", "/api/v1/orgs", "/api/v1/orgs"]);
    assert.equal(s.seen[0]!.headers["user-agent"], "acme-builder/2.0");
    assert.equal(s.seen[0]!.headers.authorization, "Bearer sk_x");
  } finally {
    await s.close();
  }
});

test("retries are bounded, and the last answer is the error", async () => {
  const s = await serve([busy]);
  try {
    const berth = new Berth({ apiKey: "sk_x", baseUrl: s.url, retry: { maxRetries: 2, baseDelayMs: 1 } });
    await assert.rejects(berth.projects.retrieve("prj_1"), { name: "BerthError", status: 503, code: "unavailable", detail: "try again" });
    assert.equal(s.seen.length, 3);
  } finally {
    await s.close();
  }
});

test("a command is not run twice: exec is not retried after a 5xx", async () => {
  const s = await serve([busy, { status: 200, body: { exit_code: 0, stdout: "", stderr: "" } }]);
  try {
    const berth = new Berth({ apiKey: "sk_x", baseUrl: s.url, retry: { baseDelayMs: 1 } });
    await assert.rejects(berth.sandboxes.connect("sbx_1").commands.run("rm -rf build"), { status: 503 });
    assert.equal(s.seen.length, 1);
  } finally {
    await s.close();
  }
});

test("a problem's fields become the BerthError's; the default User-Agent names nothing of the platform", async () => {
  const s = await serve([{ status: 422, body: { type: "about:blank", title: "Unprocessable Entity", status: 422, code: "compose_privileged", detail: "no", errors: [{ field: "services.web.privileged", detail: "not allowed" }] } }]);
  try {
    const berth = new Berth({ apiKey: "sk_x", baseUrl: s.url + "/api/v1/" });
    const err = await berth.sandboxes.connect("sbx_1").publish().catch((e: unknown) => e);
    assert.ok(err instanceof BerthError);
    assert.equal(err.code, "compose_privileged");
    assert.equal(err.title, "Unprocessable Entity");
    assert.deepEqual(err.errors, [{ field: "services.web.privileged", detail: "not allowed" }]);
    assert.equal(s.seen.length, 1, "a 4xx is not retried");
    assert.equal(s.seen[0]!.url, "/api/v1/sandboxes/sbx_1/publish");
    const ua = s.seen[0]!.headers["user-agent"]!;
    assert.match(ua, /^js-sdk\/\S+ node\/\S+$/);
    assert.doesNotMatch(ua, /berth/i);
  } finally {
    await s.close();
  }
});

test("the key and URL default to BERTH_API_KEY and BERTH_API_URL", async () => {
  const s = await serve([{ status: 200, body: { ok: true } }]);
  const saved = { key: process.env.BERTH_API_KEY, url: process.env.BERTH_API_URL };
  try {
    process.env.BERTH_API_KEY = "sk_env";
    process.env.BERTH_API_URL = s.url;
    assert.deepEqual(await new Berth().health(), { ok: true });
    assert.equal(s.seen[0]!.headers.authorization, "Bearer sk_env");
    assert.equal(s.seen[0]!.url, "/api/v1/healthz");
  } finally {
    process.env.BERTH_API_KEY = saved.key ?? "";
    process.env.BERTH_API_URL = saved.url ?? "";
    if (saved.key === undefined) delete process.env.BERTH_API_KEY;
    if (saved.url === undefined) delete process.env.BERTH_API_URL;
    await s.close();
  }
});

test("an attempt that takes too long is a timeout, retried only when safe", async () => {
  const sockets = new Set<import("node:net").Socket>();
  const srv = http.createServer(() => {}); // never answers
  srv.on("connection", (s) => sockets.add(s));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  // Attempts are counted as sent: under load a late attempt may time out
  // before the server has read it.
  let sent = 0;
  const counting: typeof fetch = (input, init) => {
    sent++;
    return fetch(input, init);
  };
  try {
    const berth = new Berth({ apiKey: "sk_x", baseUrl: url, timeoutMs: 100, retry: { maxRetries: 1, baseDelayMs: 1 }, fetch: counting });
    await assert.rejects(berth.orgs.retrieve("org_1"), { name: "BerthError", status: 0, code: "timeout" });
    assert.equal(sent, 2);
    sent = 0;
    await assert.rejects(berth.deployments.rollback("dep_1"), { code: "timeout" });
    assert.equal(sent, 1, "a rollback is not sent twice");
    const ac = new AbortController();
    const p = berth.orgs.retrieve("org_1", { signal: ac.signal, timeoutMs: 10_000 });
    ac.abort(new Error("stop"));
    await assert.rejects(p, /stop/);
  } finally {
    srv.close();
    for (const s of sockets) s.destroy();
  }
});
