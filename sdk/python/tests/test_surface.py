"""The rest of the API's operations through the SDK, against the same real
`berth up`: keys and scopes, lists, pause/resume/delete, cron jobs,
domains, branding and pages, bucket and database lifecycles."""

from __future__ import annotations

import itertools
import os
import tempfile
import unittest
import uuid

from berth import Berth, BerthError, DeploymentFailed
from berth.types import CronRun

from . import test_platform as tp
from .test_platform import client, page, tenant
from .platform import eventually, web_get


def setUpModule() -> None:
    tp.setUpModule()


def tearDownModule() -> None:
    tp.tearDownModule()


class TestSurface(unittest.TestCase):
    def test_everything_else(self) -> None:
        b = client()
        self.addCleanup(b.close)
        org, ws, prj = tenant(b, "Surface Co")
        self.assertTrue(b.health()["ok"])
        self.assertEqual(b.orgs.retrieve(org["id"])["id"], org["id"])
        self.assertEqual([w["id"] for w in b.workspaces.list(org_id=org["id"])], [ws["id"]])
        self.assertEqual(b.workspaces.retrieve(ws["id"])["org_id"], org["id"])

        # A scoped viewer key reads and may not write.
        key = b.api_keys.create(org_id=org["id"], project_id=prj["id"], role="viewer", name="viewer")
        assert tp.P is not None
        with Berth(api_key=key["secret"], base_url=tp.P.api_url) as viewer:
            self.assertEqual(viewer.projects.retrieve(prj["id"])["id"], prj["id"])
            me = viewer.api_keys.current()
            self.assertEqual((me["id"], me["role"], me.get("project_id")), (key["id"], "viewer", prj["id"]))
            self.assertNotIn("secret", me)
            with self.assertRaises(BerthError) as cm:
                viewer.sandboxes.create(project_id=prj["id"], template_id="static-html")
            self.assertEqual((cm.exception.status, cm.exception.code), (403, "forbidden"))

        # A release from a directory, deployed; lists.
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "index.html"), "w") as f:
                f.write(page("<h1>surface</h1>"))
            rel = b.releases.create(project_id=prj["id"], dir=d, external_id="rel-ext")
        self.assertEqual(b.releases.retrieve(rel["id"])["sha256"], rel["sha256"])
        self.assertEqual([r["id"] for r in b.releases.list(project_id=prj["id"], external_id="rel-ext")], [rel["id"]])
        dep = b.deployments.wait_ready(b.deployments.create(project_id=prj["id"], release_id=rel["id"]), timeout=180)
        self.assertEqual([x["id"] for x in b.deployments.list(project_id=prj["id"])], [dep["id"]])
        streamed = list(itertools.islice(b.events.stream(dep["id"], timeout=10), 2))
        listed = list(b.events.list(dep["id"]))
        self.assertEqual(streamed, listed[:2])
        self.assertEqual(b.events.last_seq(dep["id"]), listed[-1]["seq"])

        # Sandboxes: list, restart, a background process.
        sbx = b.sandboxes.create(project_id=prj["id"], template_id="static-html", env={"GREETING": "hi"},
                                 external_id="sbx-ext")
        self.assertEqual([s.id for s in b.sandboxes.list(project_id=prj["id"], external_id="sbx-ext")], [sbx.id])
        self.assertEqual(sbx.data["env_names"], ["GREETING"])
        kept = b.sandboxes.connect(sbx.id)
        self.assertEqual(kept.commands.run("echo $GREETING")["stdout"], "hi\n")
        self.assertEqual(kept.refresh().template_id, "static-html")
        proc = sbx.commands.start("sleep 1000")
        self.assertTrue(proc["id"].startswith("proc_"))
        sbx.restart()
        self.assertIn(proc["id"], [p["id"] for p in sbx.refresh().processes])
        self.assertEqual(sbx.commands.run("echo $GREETING")["stdout"], "hi\n")
        with self.assertRaises(BerthError) as cm:
            sbx.preview(port=9999, wait_seconds=0)
        self.assertEqual(cm.exception.code, "port_not_exposed")

        # Its lifecycle: stop keeps the files, pause and resume, delete twice.
        sbx.files.write("kept.txt", "kept")
        self.assertEqual(sbx.stop().status, "stopped")
        with self.assertRaises(BerthError) as cm:
            sbx.resume()
        self.assertEqual((cm.exception.status, cm.exception.code), (409, "invalid_state"))
        self.assertEqual(sbx.start().status, "running")
        self.assertEqual(sbx.files.read("kept.txt"), "kept")
        self.assertEqual(sbx.pause().status, "paused")
        self.assertEqual(sbx.resume().status, "running")
        sbx.delete()
        sbx.delete()
        self.assertEqual(sbx.refresh().status, "deleted")
        self.assertEqual(list(b.sandboxes.list(project_id=prj["id"], external_id="sbx-ext")), [])

        # Cron: an HTTP job, changed, triggered, its runs.
        job = b.cron_jobs.create(project_id=prj["id"], deployment_id=dep["id"], schedule="0 3 * * *",
                                 target={"http": {"path": "/"}}, name="nightly")
        self.assertEqual(b.cron_jobs.retrieve(job["id"])["name"], "nightly")
        self.assertEqual([j["id"] for j in b.cron_jobs.list(project_id=prj["id"])], [job["id"]])
        job = b.cron_jobs.update(job["id"], schedule="*/30 * * * *", timezone="Europe/Berlin")
        self.assertEqual((job["schedule"], job["timezone"]), ("*/30 * * * *", "Europe/Berlin"))
        run = b.cron_jobs.trigger(job["id"])
        self.assertEqual(run["trigger"], "manual")
        def finished() -> CronRun | None:
            r = b.cron_jobs.retrieve_run(job["id"], run["id"])
            return r if r["status"] not in ("scheduled", "running") else None
        done = eventually(60, "the run finished", finished)
        self.assertEqual(done["status"], "succeeded", done)
        self.assertEqual(done.get("http_status"), 200)
        self.assertEqual([r["id"] for r in b.cron_jobs.runs(job["id"])], [run["id"]])
        b.cron_jobs.delete(job["id"])

        # Domains: added, not verified (no TXT record), removed.
        dom = b.domains.create(hostname=f"{uuid.uuid4().hex[:8]}.example.com", deployment_id=dep["id"])
        self.assertEqual(dom["status"], "pending_verification")
        self.assertTrue(any(r["type"] == "TXT" for r in dom["records"]))
        self.assertEqual(b.domains.retrieve(dom["id"])["hostname"], dom["hostname"])
        self.assertIn(dom["id"], [x["id"] for x in b.domains.list(org_id=org["id"])])
        with self.assertRaises(BerthError) as cm:
            b.domains.verify(dom["id"])
        self.assertEqual((cm.exception.status, cm.exception.code), (422, "dns_not_verified"))
        b.domains.delete(dom["id"])

        # Branding and the edge's pages.
        br = b.orgs.set_branding(org["id"], {"product_name": "Clinic IQ", "primary_color": "#123456"})
        self.assertEqual(br["set"]["product_name"], "Clinic IQ")
        self.assertEqual(b.workspaces.get_branding(ws["id"])["effective"]["product_name"], "Clinic IQ")
        b.workspaces.set_branding(ws["id"], {"product_name": "Dr Smith"})
        self.assertEqual(b.workspaces.get_branding(ws["id"])["effective"]["product_name"], "Dr Smith")
        self.assertEqual(b.orgs.get_branding(org["id"])["set"]["primary_color"], "#123456")
        tpl = "<html><body><h1>{{.Heading}}</h1><p>gone</p></body></html>"
        pg = b.orgs.set_page(org["id"], "not-found", tpl)
        self.assertEqual(pg["kind"], "not-found")
        self.assertEqual(b.orgs.get_page(org["id"], "not-found"), tpl)
        b.orgs.delete_page(org["id"], "not-found")
        b.workspaces.set_page(ws["id"], "loading", tpl)
        self.assertEqual(b.workspaces.get_page(ws["id"], "loading"), tpl)
        b.workspaces.delete_page(ws["id"], "loading")
        with self.assertRaises(BerthError) as cm:
            b.orgs.set_page(org["id"], "not-found", "<script>alert(1)</script>")
        self.assertEqual(cm.exception.code, "unsafe_page")
        self.assertGreaterEqual(b.routes.resync()["hostnames"], 1)

        # Buckets: link, rotate, unlink, delete with its objects.
        bkt = b.buckets.create(project_id=prj["id"], name="media")
        self.assertEqual([x["id"] for x in b.buckets.list(project_id=prj["id"])], [bkt["id"]])
        link = b.buckets.link(bkt["id"], sandbox_id=sbx.id)
        self.assertIn("S3_BUCKET", link["env_names"])
        self.assertEqual([x["sandbox_id"] for x in b.buckets.links(bkt["id"])], [sbx.id])
        rot = b.buckets.rotate_credentials(bkt["id"])
        self.assertEqual(rot["credentials_version"], 2)
        b.buckets.unlink(bkt["id"], sbx.id)
        put = b.buckets.presign(bkt["id"], key="a.txt", method="PUT", expires_in=60)
        self.assertEqual(web_get(put["url"], method="PUT", body=b"x", headers=put["headers"])[0], 200)
        with self.assertRaises(BerthError) as cm:
            b.buckets.delete(bkt["id"])
        self.assertEqual(cm.exception.code, "bucket_not_empty")
        b.buckets.delete(bkt["id"], force=True)

        # Pause, resume, delete.
        paused = b.deployments.pause(dep["id"])
        self.assertEqual(paused["desired_state"], "paused")
        with self.assertRaises(DeploymentFailed) as failed:
            b.deployments.wait_ready(dep["id"], timeout=30)
        self.assertEqual((failed.exception.status, failed.exception.code), (None, "deployment_paused"))
        self.assertEqual(b.deployments.wait_status(dep["id"], "paused", timeout=60)["status"], "paused")
        b.deployments.resume(dep["id"])
        dep = b.deployments.wait_ready(dep["id"], timeout=120)
        self.assertIn(b"surface", web_get(dep["url"])[1])
        gone = b.deployments.delete(dep["id"])
        self.assertEqual(gone["desired_state"], "deleted")
        seen: list[str] = []
        b.deployments.wait_status(dep["id"], "deleted", timeout=60, on_event=lambda e: seen.append(e["type"]))
        self.assertIn("deployment.deleted", seen)
        with self.assertRaises(BerthError) as cm:
            b.deployments.rollback(dep["id"])
        self.assertEqual(cm.exception.code, "deployment_deleted")

    def test_database_lifecycle(self) -> None:
        b = client()
        self.addCleanup(b.close)
        _, _, prj = tenant(b, "Redis Co")
        db = b.databases.create(project_id=prj["id"], name="cache", engine="redis")
        db = b.databases.wait_healthy(db["id"], timeout=180)
        self.assertEqual(b.databases.retrieve(db["id"])["engine"], "redis")
        rotated = b.databases.rotate_credentials(db["id"])
        self.assertIn("credentials", rotated)
        self.assertEqual(b.databases.reveal_credentials(db["id"])["password"], rotated["credentials"]["password"])
        sbx = b.sandboxes.create(project_id=prj["id"], template_id="static-html")
        b.databases.link(db["id"], sandbox_id=sbx.id)
        with self.assertRaises(BerthError) as cm:
            b.databases.delete(db["id"])
        self.assertEqual(cm.exception.code, "database_linked")
        b.databases.unlink(db["id"], sbx.id)
        self.assertEqual(b.databases.links(db["id"]), [])
        self.assertIsNone(b.databases.delete(db["id"], purge=True))
        with self.assertRaises(BerthError) as cm:
            b.databases.retrieve(db["id"])
        self.assertEqual(cm.exception.status, 404)


if __name__ == "__main__":
    unittest.main()
