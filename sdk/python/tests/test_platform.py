"""The SDK against a real `berth up` started by the test: the whole loop on
a static app, a Docker Deploy host, a database, a bucket's presigned URLs,
errors and the async client. No mocks."""

from __future__ import annotations

import asyncio
import os
import tempfile
import unittest
import uuid

from berth import AsyncBerth, AsyncSandbox, Berth, BerthError, Sandbox

from berth.types import Org, Project, Workspace

from .platform import ADMIN_KEY, Platform, docker_available, eventually, web_get

P: Platform | None = None


def setUpModule() -> None:
    global P
    if not docker_available():
        raise unittest.SkipTest("no Docker engine answers `docker info`; `make test` starts one")
    P = Platform().start()


def tearDownModule() -> None:
    if P is not None:
        P.stop()


def client() -> Berth:
    assert P is not None
    return Berth(api_key=ADMIN_KEY, base_url=P.api_url)


def tenant(b: Berth, name: str) -> tuple[Org, Workspace, Project]:
    suffix = uuid.uuid4().hex[:6]
    org = b.orgs.create(name=f"{name} {suffix}", external_id=f"ext-{suffix}")
    ws = b.workspaces.create(org_id=org["id"], name="Dr Smith")
    prj = b.projects.create(workspace_id=ws["id"], name="Clinic site")
    return org, ws, prj


def page(body: str) -> str:
    return f"<!doctype html><html><head><link rel=stylesheet href=style.css></head><body>{body}</body></html>"


class TestStaticLoop(unittest.TestCase):
    def test_sandbox_preview_publish_deploy_rollback(self) -> None:
        b = client()
        self.addCleanup(b.close)
        org, ws, prj = tenant(b, "Loop Co")

        # Lists go over every page.
        for i in range(3):
            b.projects.create(workspace_id=ws["id"], name=f"extra {i}")
        ids = [p["id"] for p in b.projects.list(workspace_id=ws["id"], page_size=2)]
        self.assertEqual(len(ids), 4)
        self.assertIn(prj["id"], ids)
        self.assertEqual([o["id"] for o in b.orgs.list(external_id=org["external_id"])], [org["id"]])

        # The same Idempotency-Key creates once.
        key = "create-landing-" + uuid.uuid4().hex
        a = b.projects.create(workspace_id=ws["id"], name="Landing", idempotency_key=key)
        again = b.projects.create(workspace_id=ws["id"], name="Landing", idempotency_key=key)
        self.assertEqual(a["id"], again["id"])

        sbx = b.sandboxes.create(project_id=prj["id"], template_id="static-html")
        self.assertIsInstance(sbx, Sandbox)
        self.assertEqual(sbx.status, "running")
        self.assertEqual(b.sandboxes.retrieve(sbx.id).id, sbx.id)

        # Files: write, read, list, upload a directory as a tar, remove.
        sbx.files.write("index.html", page("<h1>version one</h1>"))
        self.assertIn("version one", sbx.files.read("index.html"))
        self.assertIn(b"version one", sbx.files.read_bytes("index.html"))
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "assets"))
            with open(os.path.join(d, "assets", "app.js"), "w") as f:
                f.write("console.log('hi')\n")
            with open(os.path.join(d, "notes.txt"), "w") as f:
                f.write("scratch\n")
            os.makedirs(os.path.join(d, "node_modules", "x"))
            with open(os.path.join(d, "node_modules", "x", "big.js"), "w") as f:
                f.write("skipped\n")
            self.assertEqual(sbx.files.upload_dir(d)["files"], 2)
        names = {e["name"]: e["type"] for e in sbx.files.list()}
        self.assertEqual(names.get("assets"), "dir")
        self.assertIn("notes.txt", names)
        self.assertNotIn("node_modules", names)
        self.assertEqual([e["name"] for e in sbx.files.list("assets")], ["app.js"])
        sbx.files.remove("notes.txt")
        with self.assertRaises(BerthError) as cm:
            sbx.files.read("notes.txt")
        self.assertEqual((cm.exception.status, cm.exception.code), (404, "file_not_found"))

        # Commands: the exit code and both streams, callbacks called once.
        out: list[str] = []
        err: list[str] = []
        res = sbx.commands.run("cat assets/app.js; echo oops >&2; exit 3", on_stdout=out.append,
                               on_stderr=err.append, timeout=30)
        self.assertEqual(res["exit_code"], 3)
        self.assertEqual(out, ["console.log('hi')\n"])
        self.assertEqual(err, ["oops\n"])

        # Preview: ready, at the URL the server gave, which answers through the edge.
        pv = sbx.preview(port=8080)
        self.assertTrue(pv["ready"], pv)
        self.assertEqual(pv["url"], sbx.preview_url)
        status, body = web_get(pv["url"])
        self.assertEqual(status, 200)
        self.assertIn(b"version one", body)

        # Publish, deploy, wait (events stream), GET the URL.
        rel1 = sbx.publish()
        self.assertTrue(rel1["sha256"].startswith("sha256:"))
        dep = b.deployments.create(project_id=prj["id"], release_id=rel1["id"])
        dep = b.deployments.wait_ready(dep, timeout=180)
        self.assertEqual(dep["serving_release_id"], rel1["id"])
        status, body = web_get(dep["url"])
        self.assertEqual(status, 200, body)
        self.assertIn(b"version one", body)

        # A second release, then a rollback to the first.
        sbx.files.write("index.html", page("<h1>version two</h1>"))
        rel2 = sbx.publish()
        b.deployments.create(project_id=prj["id"], release_id=rel2["id"])
        dep = b.deployments.wait_ready(dep["id"], timeout=180)
        self.assertEqual(dep["serving_release_id"], rel2["id"])
        self.assertIn(b"version two", web_get(dep["url"])[1])

        back = b.deployments.rollback(dep["id"])
        self.assertEqual(back["release_id"], rel1["id"])
        dep = b.deployments.wait_ready(back, timeout=120)
        self.assertEqual(dep["serving_release_id"], rel1["id"])
        self.assertIn(b"version one", web_get(dep["url"])[1])
        self.assertEqual([h["reason"] for h in dep["history"]], ["deploy", "deploy", "rollback"])

        kinds = [e["type"] for e in b.events.list(dep["id"])]
        self.assertIn("deployment.ready", kinds)
        self.assertIn("deployment.rollback", kinds)


class TestDockerDeploy(unittest.TestCase):
    def test_host_ensure_and_docker_deploy(self) -> None:
        b = client()
        self.addCleanup(b.close)
        _, ws, prj = tenant(b, "Docker Co")
        host = b.docker_deploy.ensure(workspace_id=ws["id"])
        self.assertEqual(host["workspace_id"], ws["id"])
        again = b.docker_deploy.ensure(workspace_id=ws["id"])
        self.assertEqual(again["id"], host["id"])
        host = b.docker_deploy.wait_active(host, timeout=180)
        self.assertEqual(host["state"], "active")
        self.assertEqual([h["id"] for h in b.docker_deploy.hosts(workspace_id=ws["id"])], [host["id"]])
        self.assertEqual(b.docker_deploy.retrieve_host(host["id"])["id"], host["id"])
        self.assertGreaterEqual(len(b.docker_deploy.set_portal_password(host["id"])["password"]), 8)
        self.assertEqual(b.docker_deploy.set_portal_password(host["id"], "a long password")["password"],
                         "a long password")

        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "index.html"), "w") as f:
                f.write(page("<h1>on the workspace's own host</h1>"))
            rel = b.releases.create(project_id=prj["id"], dir=d)
        self.assertEqual(rel["build"].get("template_id"), "static-html")
        dep = b.deployments.create(project_id=prj["id"], release_id=rel["id"], deployment_product="docker_deploy",
                                   metadata={"docker_deploy_template_id": "static-html"})
        self.assertEqual(dep["deployment_product"], "docker_deploy")
        dep = b.deployments.wait_ready(dep, timeout=300)
        status, body = web_get(dep["url"])
        self.assertEqual(status, 200, body)
        self.assertIn(b"own host", body)
        self.assertEqual(b.docker_deploy.retrieve_host(host["id"])["usage"]["containers"], 1)


class TestDatabase(unittest.TestCase):
    def test_database_created_and_linked(self) -> None:
        b = client()
        self.addCleanup(b.close)
        _, _, prj = tenant(b, "Data Co")
        db = b.databases.create(project_id=prj["id"], name="main", engine="postgres")
        self.assertEqual(db["status"], "provisioning")
        issued = db["credentials"]
        self.assertIn("DATABASE_URL", issued["env"])
        self.assertEqual([d["id"] for d in b.databases.list(project_id=prj["id"])], [db["id"]])
        db = b.databases.wait_healthy(db, timeout=180)
        self.assertEqual(db["status"], "healthy")

        sbx = b.sandboxes.create(project_id=prj["id"], template_id="static-html")
        link = b.databases.link(db["id"], sandbox_id=sbx.id)
        self.assertIn("DATABASE_URL", link["env_names"])
        eventually(60, "the link applied", lambda: b.databases.links(db["id"])[0]["applied"])

        def pghost() -> str:
            try:
                return sbx.commands.run("printenv PGHOST")["stdout"].strip()
            except BerthError as e:
                if e.code == "sandbox_not_running":
                    return ""
                raise
        self.assertEqual(eventually(60, "PGHOST in the sandbox", pghost), db["host"])
        creds = b.databases.reveal_credentials(db["id"])
        self.assertEqual((creds["username"], creds["password"]), (issued["username"], issued["password"]))
        self.assertNotIn("credentials", db)


class TestBucket(unittest.TestCase):
    def test_presigned_put_then_get(self) -> None:
        b = client()
        self.addCleanup(b.close)
        _, _, prj = tenant(b, "Bucket Co")
        bkt = b.buckets.create(project_id=prj["id"], name="uploads")
        self.assertEqual(bkt["key_scope"], "bucket")
        put = b.buckets.presign(bkt["id"], key="notes/hello.txt", method="PUT", expires_in=300,
                                content_type="text/plain")
        status, body = web_get(put["url"], method="PUT", body=b"uploaded with a presigned URL",
                               headers=put["headers"])
        self.assertEqual(status, 200, body)
        get = b.buckets.presign(bkt["id"], key="notes/hello.txt", method="GET", expires_in=300)
        status, body = web_get(get["url"])
        self.assertEqual((status, body), (200, b"uploaded with a presigned URL"))
        # A changed URL is refused by the endpoint.
        self.assertEqual(web_get(get["url"].replace("hello.txt", "other.txt"))[0], 403)
        self.assertEqual(b.buckets.retrieve(bkt["id"]).get("objects"), 1)


class TestErrors(unittest.TestCase):
    def test_bad_input_is_a_berth_error_with_its_code(self) -> None:
        b = client()
        self.addCleanup(b.close)
        _, _, prj = tenant(b, "Errors Co")
        with self.assertRaises(BerthError) as cm:
            b.sandboxes.create(project_id=prj["id"], template_id="no-such-template")
        e = cm.exception
        self.assertEqual((e.status, e.code), (422, "unknown_template"))
        self.assertIn("static-html", e.detail)

        with self.assertRaises(BerthError) as cm:
            b.orgs.create(name="")
        self.assertEqual((cm.exception.status, cm.exception.code), (422, "missing_name"))

        with self.assertRaises(BerthError) as cm:
            b.projects.retrieve("prj_01m000000000000000000000x0")
        self.assertEqual((cm.exception.status, cm.exception.code), (404, "not_found"))

        assert P is not None
        with self.assertRaises(BerthError) as cm, Berth(api_key="sk_wrong", base_url=P.api_url) as wrong:
            wrong.orgs.retrieve("org_x")
        self.assertEqual((cm.exception.status, cm.exception.code), (401, "unauthorized"))

        key = "reuse-" + uuid.uuid4().hex
        b.orgs.create(name="Once", idempotency_key=key)
        with self.assertRaises(BerthError) as cm:
            b.orgs.create(name="Twice", idempotency_key=key)
        self.assertEqual(cm.exception.code, "idempotency_key_reused")

    def test_templates(self) -> None:
        b = client()
        self.addCleanup(b.close)
        ids = [t["id"] for t in b.templates.list()]
        self.assertIn("static-html", ids)
        self.assertEqual(b.templates.retrieve("express-api")["port"], 3000)
        with self.assertRaises(BerthError) as cm:
            b.templates.retrieve("nope")
        self.assertEqual(cm.exception.code, "template_not_found")


class TestAsync(unittest.TestCase):
    def test_async_client(self) -> None:
        assert P is not None
        api_url = P.api_url

        async def main() -> None:
            async with AsyncBerth(api_key=ADMIN_KEY, base_url=api_url) as b:
                org = await b.orgs.create(name="Async Co")
                ws = await b.workspaces.create(org_id=org["id"], name="W")
                created = await asyncio.gather(*[b.projects.create(workspace_id=ws["id"], name=f"p{i}")
                                                 for i in range(3)])
                listed = [p["id"] async for p in b.projects.list(workspace_id=ws["id"], page_size=2)]
                self.assertEqual(sorted(listed), sorted(p["id"] for p in created))
                prj = created[0]

                sbx = await b.sandboxes.create(project_id=prj["id"], template_id="static-html")
                self.assertIsInstance(sbx, AsyncSandbox)
                await sbx.files.write("index.html", page("<h1>async one</h1>"))
                self.assertIn("async one", await sbx.files.read("index.html"))
                self.assertIn("index.html", [e["name"] for e in await sbx.files.list()])
                out: list[str] = []
                res = await sbx.commands.run("cat index.html | wc -c", on_stdout=out.append)
                self.assertEqual(res["exit_code"], 0)
                self.assertEqual(out, [res["stdout"]])
                pv = await sbx.preview(port=8080)
                self.assertTrue(pv["ready"], pv)
                self.assertIn(b"async one", (await asyncio.to_thread(web_get, pv["url"]))[1])

                # Publish, deploy and wait (the events stream over asyncio), twice, then roll back.
                rel1 = await sbx.publish()
                dep = await b.deployments.wait_ready(
                    await b.deployments.create(project_id=prj["id"], release_id=rel1["id"]), timeout=180)
                self.assertIn(b"async one", (await asyncio.to_thread(web_get, dep["url"]))[1])
                await sbx.files.write("index.html", page("<h1>async two</h1>"))
                rel2 = await sbx.publish()
                await b.deployments.create(project_id=prj["id"], release_id=rel2["id"])
                dep = await b.deployments.wait_ready(dep["id"], timeout=180)
                self.assertIn(b"async two", (await asyncio.to_thread(web_get, dep["url"]))[1])
                dep = await b.deployments.wait_ready(await b.deployments.rollback(dep["id"]), timeout=120)
                self.assertEqual(dep["serving_release_id"], rel1["id"])
                self.assertIn(b"async one", (await asyncio.to_thread(web_get, dep["url"]))[1])

                streamed = [e async for e in b.events.stream(dep["id"], timeout=2)]
                listed_events = [e async for e in b.events.list(dep["id"])]
                self.assertEqual(streamed, listed_events)
                self.assertIn("deployment.rollback", [e["type"] for e in streamed])

                with self.assertRaises(BerthError) as cm:
                    await b.orgs.retrieve("org_01m000000000000000000000x0")
                self.assertEqual((cm.exception.status, cm.exception.code), (404, "not_found"))

        asyncio.run(main())


if __name__ == "__main__":
    unittest.main()
