// The SDK against a real `berth up` (Docker engine included): no mocks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Berth, BerthError, type Schemas } from "../src/index.js";
import { start, web, eventually, adminKey, dockerAnswers, type Platform } from "./harness.js";

const skip = dockerAnswers() ? false : "no Docker engine answers `docker info`; `make test` starts one";
let p: Platform;
let berth: Berth;

before(async () => {
  if (skip) return;
  p = await start();
  berth = new Berth({ apiKey: adminKey, baseUrl: p.apiURL });
});

after(async () => {
  await p?.stop();
});

let n = 0;
async function tenant(name: string) {
  const org = await berth.orgs.create({ name, externalId: `ext-${name}-${++n}` });
  const ws = await berth.workspaces.create({ orgId: org.id, name: "Dr Smith" });
  const prj = await berth.projects.create({ workspaceId: ws.id, name: "Clinic Site" });
  return { org, ws, prj };
}

test("bad input answers a BerthError with the API's code", { skip }, async () => {
  const { prj } = await tenant("errors");
  await assert.rejects(berth.sandboxes.create({ projectId: prj.id, templateId: "no-such-template" }), (e: unknown) => {
    assert.ok(e instanceof BerthError);
    assert.equal(e.status, 422);
    assert.equal(e.code, "unknown_template");
    assert.match(e.detail, /static-html/); // the detail lists the valid ones
    assert.equal(e.operation, "createSandbox");
    return true;
  });
  await assert.rejects(berth.orgs.create({ name: "" }), { name: "BerthError", status: 422, code: "missing_name" });
  await assert.rejects(berth.projects.retrieve("prj_01m000000000000000000000x0"), { status: 404, code: "not_found" });
  const stranger = new Berth({ apiKey: "sk_nobody", baseUrl: p.apiURL });
  await assert.rejects(stranger.orgs.list().toArray(), { status: 401, code: "unauthorized" });
});

test("list iterates over every page; external ids filter", { skip }, async () => {
  const { ws, org } = await tenant("pages");
  const made: string[] = [];
  for (let i = 0; i < 5; i++) made.push((await berth.projects.create({ workspaceId: ws.id, name: `p${i}`, externalId: `x${i}` })).id);
  const seen: string[] = [];
  for await (const pr of berth.projects.list({ workspaceId: ws.id, limit: 2 })) seen.push(pr.id);
  assert.deepEqual(seen.filter((id) => made.includes(id)), made);
  assert.equal(seen.length, 6); // the tenant's own project too
  const first = await berth.projects.list({ workspaceId: ws.id, limit: 2 }).page();
  assert.equal(first.data.length, 2);
  assert.ok(first.nextCursor);
  const byExt = await berth.projects.list({ orgId: org.id, externalId: "x3" }).toArray();
  assert.deepEqual(byExt.map((x) => x.id), [made[3]]);
});

test("creates send an Idempotency-Key: a retried create makes one resource", { skip }, async () => {
  // A fetch that delivers the first request to the real server and then
  // loses its answer, as a dropped connection would.
  let calls = 0;
  const keys: (string | null)[] = [];
  const lossy: typeof fetch = async (input, init) => {
    calls++;
    keys.push(new Headers(init?.headers).get("idempotency-key"));
    const res = await fetch(input, init);
    if (calls === 1) {
      await res.arrayBuffer();
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) });
    }
    return res;
  };
  const flaky = new Berth({ apiKey: adminKey, baseUrl: p.apiURL, fetch: lossy, retry: { baseDelayMs: 1 } });
  const ext = `idem-${Date.now()}`;
  const org = await flaky.orgs.create({ name: "Idem", externalId: ext });
  assert.equal(calls, 2);
  assert.ok(keys[0] && keys[0] === keys[1], `the retry sent the same key: ${keys}`);
  assert.deepEqual((await berth.orgs.list({ externalId: ext }).toArray()).map((o) => o.id), [org.id]);
  // The caller's own key, reused for the same request, replays.
  const a = await berth.orgs.create({ name: "Mine" }, { idempotencyKey: `k-${ext}` });
  const b = await berth.orgs.create({ name: "Mine" }, { idempotencyKey: `k-${ext}` });
  assert.equal(a.id, b.id);
  await assert.rejects(berth.orgs.create({ name: "Other" }, { idempotencyKey: `k-${ext}` }), { status: 422, code: "idempotency_key_reused" });
});

test("network errors are retried a bounded number of times", { skip }, async () => {
  let calls = 0;
  const counting: typeof fetch = (input, init) => {
    calls++;
    return fetch(input, init);
  };
  // A port nothing listens on: the connection is refused every time.
  const dead = new Berth({ apiKey: adminKey, baseUrl: "http://127.0.0.1:1", fetch: counting, retry: { maxRetries: 2, baseDelayMs: 1 } });
  await assert.rejects(dead.orgs.retrieve("org_x"), { name: "BerthError", status: 0, code: "network_error" });
  assert.equal(calls, 3);
});

test("the loop: sandbox, files, exec, preview, publish, deploy, rollback", { skip }, async () => {
  const { prj } = await tenant("loop");
  const sbx = await berth.sandboxes.create({ projectId: prj.id, templateId: "static-html" });
  assert.equal(sbx.status, "running");
  assert.equal(sbx.template_id, "static-html");

  await sbx.files.write("index.html", "<h1>hi from v1</h1>");
  assert.equal(await sbx.files.read("index.html"), "<h1>hi from v1</h1>");
  await sbx.files.write("assets/app.js", new TextEncoder().encode("console.log(1)"));
  assert.deepEqual((await sbx.files.list("assets")).map((e) => e.name), ["app.js"]);
  await sbx.files.remove("assets");
  assert.ok(!(await sbx.files.list()).some((e) => e.name === "assets"));
  await assert.rejects(sbx.files.read("assets/app.js"), { code: "file_not_found" });

  const dir = mkdtempSync(join(tmpdir(), "tssdk-site-"));
  mkdirSync(join(dir, "css"));
  writeFileSync(join(dir, "css", "site.css"), "h1{color:teal}");
  writeFileSync(join(dir, "about.html"), "<p>about</p>");
  mkdirSync(join(dir, "node_modules"));
  writeFileSync(join(dir, "node_modules", "skip.js"), "x");
  assert.deepEqual(await sbx.files.uploadDir(dir), { files: 2 });
  rmSync(dir, { recursive: true });
  assert.equal(await sbx.files.read("css/site.css"), "h1{color:teal}");

  let out = "";
  let errs = "";
  const r = await sbx.commands.run("cat index.html && echo oops >&2 && exit 3", { onStdout: (d) => (out += d), onStderr: (d) => (errs += d), timeoutMs: 30_000 });
  assert.equal(r.exit_code, 3);
  assert.equal(r.stdout, "<h1>hi from v1</h1>");
  assert.equal(out, r.stdout);
  assert.equal(errs, "oops\n");
  await assert.rejects(sbx.commands.run("sleep 5", { timeoutMs: 1000 }), { status: 408, code: "exec_timeout" });

  const pv = await sbx.preview({ port: 8080 });
  assert.equal(pv.ready, true, pv.reason);
  assert.equal(pv.url, sbx.preview_url); // the API's URL, never one the SDK built
  const page = await web(pv.url);
  assert.equal(page.status, 200);
  assert.match(page.body, /hi from v1/);
  await assert.rejects(sbx.preview({ port: 9999 }), { status: 422, code: "port_not_exposed" });

  const rel1 = await sbx.publish();
  assert.equal(rel1.project_id, prj.id);
  assert.equal(rel1.build.template_id, "static-html");
  const dep = await berth.deployments.create({ projectId: prj.id, releaseId: rel1.id });
  assert.equal(dep.deployment_product, "standard");
  const events: string[] = [];
  let d = await berth.deployments.waitReady(dep.id, { timeoutMs: 180_000, onEvent: (e) => events.push(e.type) });
  assert.equal(d.serving_release_id, rel1.id);
  // A fresh release is built first: waitReady saw its events on the stream.
  assert.ok(events.includes("deployment.ready"), `events: ${events}`);
  assert.match((await web(d.url)).body, /hi from v1/);

  await sbx.files.write("index.html", "<h1>hi from v2</h1>");
  const rel2 = await sbx.publish();
  d = await berth.deployments.create({ projectId: prj.id, releaseId: rel2.id });
  assert.equal(d.id, dep.id);
  d = await berth.deployments.waitReady(dep.id, { timeoutMs: 180_000 });
  assert.equal(d.serving_release_id, rel2.id);
  assert.match((await web(d.url)).body, /hi from v2/);

  d = await berth.deployments.rollback(dep.id);
  assert.equal(d.release_id, rel1.id);
  d = await berth.deployments.waitReady(dep.id, { timeoutMs: 120_000 });
  assert.equal(d.serving_release_id, rel1.id);
  assert.match((await web(d.url)).body, /hi from v1/);
  assert.deepEqual(d.history.map((h) => h.reason), ["deploy", "deploy", "rollback"]);

  const seen: string[] = [];
  for await (const e of berth.events.list({ resourceId: dep.id })) seen.push(e.type);
  assert.ok(seen.includes("deployment.rollback"), `events: ${seen}`);
});

test("Docker Deploy: a workspace's host, and a docker_deploy deployment on it", { skip }, async () => {
  const { ws, prj } = await tenant("dockerdeploy");
  const host = await berth.dockerDeploy.ensure({ workspaceId: ws.id });
  assert.equal(host.workspace_id, ws.id);
  const again = await berth.dockerDeploy.ensure({ workspaceId: ws.id });
  assert.equal(again.id, host.id);
  const active = await berth.dockerDeploy.waitActive(host.id, { timeoutMs: 120_000 });
  assert.equal(active.state, "active");
  const hosts = await berth.dockerDeploy.hosts({ workspaceId: ws.id }); // awaiting a list gives every item
  assert.deepEqual(hosts.map((h) => h.id), [host.id]);

  const dir = mkdtempSync(join(tmpdir(), "tssdk-dd-"));
  writeFileSync(join(dir, "index.html"), "<h1>on my own host</h1>");
  const rel = await berth.releases.create({ projectId: prj.id, dir });
  rmSync(dir, { recursive: true });
  assert.equal(rel.provenance.source, "upload");
  const dep = await berth.deployments.create({ projectId: prj.id, releaseId: rel.id, deploymentProduct: "docker_deploy", metadata: { docker_deploy_template_id: "static-html" } });
  assert.equal(dep.deployment_product, "docker_deploy");
  assert.equal(dep.metadata.docker_deploy_template_id, "static-html");
  const d = await berth.deployments.waitReady(dep.id, { timeoutMs: 180_000 });
  assert.match((await web(d.url)).body, /on my own host/);
});

test("a sandbox's lifecycle: stop, start, pause, resume, delete", { skip }, async () => {
  const { prj } = await tenant("lifecycle");
  const sbx = await berth.sandboxes.create({ projectId: prj.id, templateId: "static-html" });
  await sbx.files.write("kept.txt", "kept");
  assert.equal((await sbx.stop()).status, "stopped");
  await assert.rejects(sbx.resume(), { name: "BerthError", status: 409, code: "invalid_state", operation: "resumeSandbox" });
  assert.equal((await sbx.start()).status, "running");
  assert.equal(await sbx.files.read("kept.txt"), "kept");
  assert.equal((await sbx.pause()).status, "paused");
  assert.equal((await sbx.resume()).status, "running");
  await sbx.delete();
  await sbx.delete(); // again: the same answer
  assert.equal((await sbx.refresh()).status, "deleted");
  await assert.rejects(sbx.pause(), { status: 409, code: "invalid_state" });
});

test("a managed database, created and linked to a sandbox", { skip }, async () => {
  const { prj } = await tenant("db");
  const db = await berth.databases.create({ projectId: prj.id, engine: "postgres", name: "main" });
  assert.equal(db.status, "provisioning");
  const url = db.credentials?.env.DATABASE_URL;
  assert.match(url ?? "", /^postgres:\/\/app:.+@main:5432\/app$/);
  const healthy = await berth.databases.waitHealthy(db.id, { timeoutMs: 120_000 });
  assert.equal(healthy.status, "healthy");
  assert.equal(healthy.credentials, undefined); // shown once

  const sbx = await berth.sandboxes.create({ projectId: prj.id, templateId: "static-html" });
  const link = await berth.databases.link(db.id, { sandboxId: sbx.id });
  assert.equal(link.sandbox_id, sbx.id);
  assert.ok(link.env_names.includes("DATABASE_URL"));
  await eventually(60_000, "the link to be applied", async () => {
    const links = await berth.databases.links(db.id).toArray();
    return links.find((l) => l.sandbox_id === sbx.id)?.applied || undefined;
  });
  const env = await eventually(60_000, "DATABASE_URL in the sandbox", async () => {
    const r = await sbx.commands.run("printenv DATABASE_URL");
    return r.exit_code === 0 ? r.stdout.trim() : undefined;
  });
  assert.equal(env, url);
  const creds = await berth.databases.revealCredentials(db.id);
  assert.equal(creds.url, url);
});

test("a bucket's presigned URLs: PUT then GET through the edge", { skip }, async () => {
  const { prj } = await tenant("bucket");
  const b = await berth.buckets.create({ projectId: prj.id, name: "uploads" });
  assert.ok(b.credentials?.secret_access_key);
  const put = await berth.buckets.presign(b.id, { key: "notes/hello.txt", method: "PUT", contentType: "text/plain", expiresIn: 300 });
  assert.equal(put.method, "PUT");
  const w = await web(put.url, { method: "PUT", headers: put.headers, body: "hello bucket" });
  assert.equal(w.status, 200, w.body);
  const get = await berth.buckets.presign(b.id, { key: "notes/hello.txt" });
  const r = await web(get.url);
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, "hello bucket");
  const tampered = await web(get.url.replace("hello.txt", "other.txt"));
  assert.equal(tampered.status, 403);
  assert.equal((await berth.buckets.retrieve(b.id)).objects, 1);
});

test("templates, api keys and the health check", { skip }, async () => {
  assert.deepEqual(await berth.health(), { ok: true });
  const ids = (await berth.templates.list().toArray()).map((t) => t.id);
  assert.ok(ids.includes("static-html") && ids.length >= 7, `templates: ${ids}`);
  const t: Schemas["Template"] = await berth.templates.retrieve("static-html");
  assert.equal(t.port, 8080);
  await assert.rejects(berth.templates.retrieve("nope"), { status: 404, code: "template_not_found" });
  const { org, prj } = await tenant("keys");
  const key = await berth.apiKeys.create({ name: "deployer", orgId: org.id, projectId: prj.id, role: "deployer" });
  assert.ok(key.secret);
  const scoped = new Berth({ apiKey: key.secret!, baseUrl: p.apiURL });
  assert.equal((await scoped.projects.retrieve(prj.id)).id, prj.id);
  const me = await scoped.apiKeys.self();
  assert.deepEqual([me.id, me.role, me.project_id], [key.id, "deployer", prj.id]);
  assert.equal(me.secret, undefined);
  await assert.rejects(scoped.orgs.create({ name: "nope" }), { status: 403, code: "forbidden" });
});

test("waitReady throws deployment_failed with the reason; pause and resume follow the events", { skip }, async () => {
  const { prj } = await tenant("failing");
  const dir = mkdtempSync(join(tmpdir(), "tssdk-fail-"));
  writeFileSync(join(dir, "index.html"), "<h1>ok</h1>");
  const good = await berth.releases.create({ projectId: prj.id, dir });
  writeFileSync(join(dir, "Dockerfile"), "FROM berth/nginx:bookworm\nRUN echo the build breaks here && exit 7\n");
  const bad = await berth.releases.create({ projectId: prj.id, dir, port: 8080 });
  rmSync(dir, { recursive: true });

  const dep = await berth.deployments.create({ projectId: prj.id, releaseId: good.id });
  await berth.deployments.waitReady(dep.id, { timeoutMs: 180_000 });
  await berth.deployments.create({ projectId: prj.id, releaseId: bad.id });
  const err = await berth.deployments.waitReady(dep.id, { timeoutMs: 180_000 }).catch((e: unknown) => e);
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.code, "deployment_failed");
  assert.ok(err.detail.length > 0);
  // The previous release keeps serving.
  const d = await berth.deployments.retrieve(dep.id);
  assert.equal(d.serving_release_id, good.id);
  assert.match((await web(d.url)).body, /ok/);

  await berth.deployments.rollback(dep.id, { releaseId: good.id });
  await berth.deployments.waitReady(dep.id, { timeoutMs: 120_000 });
  await berth.deployments.pause(dep.id);
  assert.equal((await berth.deployments.waitStatus(dep.id, "paused", { timeoutMs: 60_000 })).desired_state, "paused");
  await assert.rejects(berth.deployments.waitReady(dep.id, { timeoutMs: 10_000 }), { code: "deployment_paused" });
  await berth.deployments.resume(dep.id);
  assert.equal((await berth.deployments.waitReady(dep.id, { timeoutMs: 120_000 })).serving_release_id, good.id);

  const ac = new AbortController();
  const waiting = berth.deployments.waitStatus(dep.id, "deleted", { signal: ac.signal });
  setTimeout(() => ac.abort(new Error("gave up")), 200);
  await assert.rejects(waiting, /gave up/);
});

test("the rest of the API: cron jobs, domains, branding, pages, links, lists", { skip }, async () => {
  const { org, ws, prj } = await tenant("rest");
  const dir = mkdtempSync(join(tmpdir(), "tssdk-rest-"));
  writeFileSync(join(dir, "index.html"), "<h1>rest</h1>");
  const rel = await berth.releases.create({ projectId: prj.id, dir, externalId: "r1" });
  rmSync(dir, { recursive: true });
  assert.deepEqual((await berth.releases.list({ projectId: prj.id, externalId: "r1" }).toArray()).map((r) => r.id), [rel.id]);
  assert.equal((await berth.releases.retrieve(rel.id)).sha256, rel.sha256);
  const dep = await berth.deployments.create({ projectId: prj.id, releaseId: rel.id });
  await berth.deployments.waitReady(dep.id, { timeoutMs: 180_000 });
  assert.deepEqual((await berth.deployments.list({ projectId: prj.id }).toArray()).map((d) => d.id), [dep.id]);

  const job = await berth.cronJobs.create({ projectId: prj.id, deploymentId: dep.id, schedule: "0 3 * * *", target: { http: { method: "GET", path: "/" } } });
  assert.equal(job.timezone, "UTC");
  const run = await berth.cronJobs.trigger(job.id);
  const done = await eventually(30_000, "the manual run to finish", async () => {
    const r = await berth.cronJobs.retrieveRun(job.id, run.id);
    return r.status === "succeeded" || r.status === "failed" ? r : undefined;
  });
  assert.equal(done.status, "succeeded", done.reason);
  assert.equal(done.http_status, 200);
  assert.ok((await berth.cronJobs.runs(job.id).toArray()).some((r) => r.id === run.id));
  assert.equal((await berth.cronJobs.update(job.id, { enabled: false })).enabled, false);
  assert.equal((await berth.cronJobs.list({ projectId: prj.id }).toArray()).length, 1);
  await berth.cronJobs.delete(job.id);
  await assert.rejects(berth.cronJobs.retrieve(job.id), { status: 404 });

  const dom = await berth.domains.create({ hostname: `www.${org.slug}-example.test`, deploymentId: dep.id });
  assert.equal(dom.status, "pending_verification");
  assert.ok(dom.records.some((r) => r.type === "TXT"));
  assert.equal((await berth.domains.retrieve(dom.id)).hostname, dom.hostname);
  assert.ok((await berth.domains.list({ orgId: org.id }).toArray()).some((d) => d.id === dom.id));
  await berth.domains.delete(dom.id);

  const b = await berth.orgs.setBranding(org.id, { productName: "Clinic IQ", primaryColor: "#0a7" });
  assert.equal(b.set.product_name, "Clinic IQ");
  assert.equal((await berth.workspaces.getBranding(ws.id)).effective.product_name, "Clinic IQ");
  const page = await berth.workspaces.setPage(ws.id, "not-found", "<h1>{{.Title}}</h1><p>nothing here</p>");
  assert.equal(page.kind, "not-found");
  assert.match(await berth.workspaces.getPage(ws.id, "not-found"), /nothing here/);
  await berth.workspaces.deletePage(ws.id, "not-found");
  await assert.rejects(berth.workspaces.getPage(ws.id, "not-found"), { status: 404, code: "page_not_found" });

  const bucket = await berth.buckets.create({ projectId: prj.id, name: "files" });
  const bl = await berth.buckets.link(bucket.id, { deploymentId: dep.id });
  assert.ok(bl.env_names.length > 0);
  assert.deepEqual((await berth.buckets.links(bucket.id).toArray()).map((l) => l.deployment_id), [dep.id]);
  await berth.buckets.unlink(bucket.id, dep.id);
  await berth.buckets.delete(bucket.id);
  assert.equal((await berth.buckets.list({ projectId: prj.id }).toArray()).length, 0);

  const resync = await berth.routes.resync();
  assert.ok(resync.hostnames > 0);
  assert.ok((await berth.orgs.retrieve(org.id)).id === org.id && (await berth.workspaces.list({ orgId: org.id }).toArray()).length === 1);
});
