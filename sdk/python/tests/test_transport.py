"""Retries, idempotency keys, errors and headers, against a real HTTP server
on loopback (http.server) that answers what each test scripts: the only
way to make a server fail on cue. The API itself is tested in
test_platform.py."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from berth import AsyncBerth, Berth, BerthConnectionError, BerthError, DEFAULT_USER_AGENT


class Script:
    """The answers to give, in order (status, body, headers), and the
    requests received."""

    def __init__(self, answers: list[tuple[int, object, dict[str, str]]]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.peers: list[int] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: Script

    def _answer(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        s = self.server.script  # type: ignore[attr-defined]
        s.requests.append((self.command, self.path, dict(self.headers), body))
        s.peers.append(self.client_address[1])
        status, payload, headers = s.answers.pop(0) if s.answers else (200, {}, {})
        headers = dict(headers)
        if headers.pop("X-Close-Silently", None):
            # Close after answering without saying so, as a server does
            # with a connection idle past its timeout.
            self.close_connection = True
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        ctype = "application/problem+json" if status >= 400 and not isinstance(payload, bytes) else "application/json"
        self.send_header("Content-Type", headers.pop("Content-Type", ctype))
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, *args: object) -> None:
        pass


class Loopback(unittest.TestCase):
    """Starts scripted servers on loopback."""

    def server(self, answers: list[tuple[int, object, dict[str, str]]]) -> tuple[str, Script]:
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        srv.script = Script(answers)  # type: ignore[attr-defined]
        th = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        th.start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return f"http://127.0.0.1:{srv.server_address[1]}", srv.script  # type: ignore[attr-defined]

    def serve(self, answers: list[tuple[int, object, dict[str, str]]], **kw: Any) -> tuple[Berth, Script]:
        url, script = self.server(answers)
        b = Berth(api_key="sk_test", base_url=url, backoff=0.01, **kw)
        self.addCleanup(b.close)
        return b, script


class TransportTest(Loopback):
    def test_connections_are_kept_alive_and_a_stale_one_is_replaced(self) -> None:
        dep = {"id": "dep_1"}
        b, s = self.serve([(200, dep, {}), (200, dep, {"X-Close-Silently": "1"}), (202, dep, {})])
        b.deployments.retrieve("dep_1")
        b.deployments.retrieve("dep_1")
        # The server closed the kept-alive connection: the rollback goes on a
        # new one, once.
        self.assertEqual(b.deployments.rollback("dep_1"), dep)
        self.assertEqual(s.peers[0], s.peers[1])
        self.assertNotEqual(s.peers[1], s.peers[2])
        self.assertEqual([r[0] for r in s.requests], ["GET", "GET", "POST"])

    def test_creating_posts_send_one_idempotency_key_across_retries(self) -> None:
        org = {"id": "org_1", "slug": "a", "name": "A", "created_at": "x"}
        b, s = self.serve([(503, {"code": "x", "detail": "busy", "status": 503}, {}),
                           (500, {"code": "internal_error", "detail": "", "status": 500}, {}),
                           (201, org, {})])
        self.assertEqual(b.orgs.create(name="A"), org)
        keys = {r[2]["Idempotency-Key"] for r in s.requests}
        self.assertEqual(len(s.requests), 3)
        self.assertEqual(len(keys), 1)
        self.assertEqual(len(keys.pop()), 32)
        self.assertEqual(json.loads(s.requests[0][3]), {"name": "A"})
        self.assertEqual(s.requests[0][1], "/api/v1/orgs")

    def test_a_given_idempotency_key_is_sent(self) -> None:
        b, s = self.serve([(201, {"id": "prj_1"}, {})])
        b.projects.create(workspace_id="ws_1", name="P", idempotency_key="mine-1")
        self.assertEqual(s.requests[0][2]["Idempotency-Key"], "mine-1")

    def test_retries_are_bounded(self) -> None:
        busy: tuple[int, object, dict[str, str]] = (503, {"code": "busy", "detail": "try later", "status": 503}, {})
        b, s = self.serve([busy] * 10, max_retries=2)
        with self.assertRaises(BerthError) as cm:
            b.sandboxes.retrieve("sbx_1")
        self.assertEqual((cm.exception.status, cm.exception.code), (503, "busy"))
        self.assertEqual(len(s.requests), 3)

    def test_a_rollback_is_never_sent_twice_after_a_server_error(self) -> None:
        b, s = self.serve([(500, {"code": "internal_error", "detail": "", "status": 500}, {})])
        with self.assertRaises(BerthError):
            b.deployments.rollback("dep_1")
        self.assertEqual(len(s.requests), 1)
        self.assertNotIn("Idempotency-Key", s.requests[0][2])

    def test_a_429_is_retried_even_for_a_post_that_creates_nothing(self) -> None:
        sbx = {"id": "sbx_1", "ports": [8080]}
        b, s = self.serve([(200, sbx, {}),
                           (429, {"code": "rate_limited", "detail": "slow down", "status": 429}, {"Retry-After": "0"}),
                           (200, {"exit_code": 0, "stdout": "", "stderr": ""}, {})])
        self.assertEqual(b.sandboxes.retrieve("sbx_1").commands.run("true")["exit_code"], 0)
        self.assertEqual([r[1] for r in s.requests], ["/api/v1/sandboxes/sbx_1"] + ["/api/v1/sandboxes/sbx_1/exec"] * 2)

    def test_problem_json_becomes_berth_error(self) -> None:
        problem = {"type": "about:blank", "title": "Unprocessable Entity", "status": 422, "code": "compose_ports",
                   "detail": "use expose", "errors": [{"field": "services.web.ports", "detail": "use expose"}]}
        b, _ = self.serve([(422, problem, {})])
        with self.assertRaises(BerthError) as cm:
            b.orgs.retrieve("org_1")
        e = cm.exception
        self.assertEqual((e.status, e.code, e.detail, e.title),
                         (422, "compose_ports", "use expose", "Unprocessable Entity"))
        self.assertEqual(e.errors, problem["errors"])
        self.assertEqual(str(e), "compose_ports: use expose")

    def test_an_answer_that_is_not_a_problem(self) -> None:
        b, _ = self.serve([(404, b"<html>no</html>", {"Content-Type": "text/html"})])
        with self.assertRaises(BerthError) as cm:
            b.orgs.retrieve("org_1")
        self.assertEqual((cm.exception.status, cm.exception.code, cm.exception.detail),
                         (404, "http_404", "<html>no</html>"))

    def test_user_agent_is_neutral_by_default_and_configurable(self) -> None:
        b, s = self.serve([(200, {"ok": True}, {})])
        b.health()
        ua = s.requests[0][2]["User-Agent"]
        self.assertEqual(ua, DEFAULT_USER_AGENT)
        self.assertNotIn("berth", ua.lower())
        self.assertEqual(s.requests[0][2]["Authorization"], "Bearer sk_test")
        b2, s2 = self.serve([(200, {"ok": True}, {})], user_agent="clinic-iq-agent/2.0")
        b2.health()
        self.assertEqual(s2.requests[0][2]["User-Agent"], "clinic-iq-agent/2.0")

    def test_lists_follow_next_cursor(self) -> None:
        b, s = self.serve([(200, {"data": [{"id": "a"}, {"id": "b"}], "next_cursor": "b"}, {}),
                           (200, {"data": [{"id": "c"}], "next_cursor": "c"}, {}),
                           (200, {"data": []}, {})])
        self.assertEqual([o["id"] for o in b.orgs.list(page_size=2, external_id="x y")], ["a", "b", "c"])
        self.assertEqual([r[1] for r in s.requests], ["/api/v1/orgs?external_id=x+y&limit=2",
                                                      "/api/v1/orgs?external_id=x+y&limit=2&cursor=b",
                                                      "/api/v1/orgs?external_id=x+y&limit=2&cursor=c"])

    def test_file_paths_are_escaped_per_segment(self) -> None:
        b, s = self.serve([(200, {"id": "sbx_1"}, {}), (204, b"", {}),
                           (200, b"data", {"Content-Type": "application/octet-stream"})])
        f = b.sandboxes.retrieve("sbx_1").files
        f.write("/dir with space/a#b.txt", b"x")
        self.assertEqual(f.read_bytes("q?.txt"), b"data")
        self.assertEqual(s.requests[1][1], "/api/v1/sandboxes/sbx_1/files/dir%20with%20space/a%23b.txt")
        self.assertEqual(s.requests[1][2]["Content-Type"], "application/octet-stream")
        self.assertEqual(s.requests[2][1], "/api/v1/sandboxes/sbx_1/files/q%3F.txt")

    def test_no_server_is_a_connection_error_after_the_retries(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        b = Berth(api_key="k", base_url=f"http://127.0.0.1:{port}/api/v1", backoff=0.01, max_retries=2)
        with self.assertRaises(BerthConnectionError) as cm:
            b.deployments.rollback("dep_1")
        self.assertIsNone(cm.exception.status)
        self.assertEqual(cm.exception.code, "connection_error")

    def test_environment_defaults(self) -> None:
        old = {k: os.environ.get(k) for k in ("BERTH_API_KEY", "BERTH_API_URL")}
        try:
            os.environ["BERTH_API_KEY"] = "sk_env"
            os.environ["BERTH_API_URL"] = "http://127.0.0.1:7700/"
            self.assertEqual(Berth().base_url, "http://127.0.0.1:7700/api/v1")
            self.assertEqual(AsyncBerth(base_url="https://api.example.com/v9/api/v1").base_url,
                             "https://api.example.com/v9/api/v1")
            del os.environ["BERTH_API_URL"]
            self.assertEqual(Berth().base_url, "http://127.0.0.1:7700/api/v1")
            del os.environ["BERTH_API_KEY"]
            with self.assertRaises(ValueError):
                Berth()
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


class AsyncTransportTest(Loopback):
    """The asyncio client's own transport, on the same cues."""

    def run_async(self, coro: Any) -> Any:
        return asyncio.run(coro)

    def test_async_idempotency_key_across_retries(self) -> None:
        url, s = self.server([(503, {"code": "x", "detail": "busy", "status": 503}, {}),
                              (201, {"id": "org_1"}, {})])

        async def main() -> None:
            async with AsyncBerth(api_key="sk_test", base_url=url, backoff=0.01) as b:
                self.assertEqual(await b.orgs.create(name="A"), {"id": "org_1"})

        self.run_async(main())
        self.assertEqual(len({r[2]["Idempotency-Key"] for r in s.requests}), 1)
        self.assertEqual(len(s.requests), 2)
        self.assertEqual(s.requests[0][2]["Host"], url.removeprefix("http://"))
        self.assertEqual(json.loads(s.requests[0][3]), {"name": "A"})

    def test_async_rollback_not_retried_but_stale_connection_replaced(self) -> None:
        dep = {"id": "dep_1"}
        url, s = self.server([(200, dep, {}), (200, dep, {"X-Close-Silently": "1"}), (202, dep, {}),
                              (500, {"code": "internal_error", "detail": "", "status": 500}, {})])

        async def main() -> None:
            async with AsyncBerth(api_key="sk_test", base_url=url, backoff=0.01) as b:
                await b.deployments.retrieve("dep_1")
                await b.deployments.retrieve("dep_1")
                self.assertEqual(await b.deployments.rollback("dep_1"), dep)
                with self.assertRaises(BerthError) as cm:
                    await b.deployments.rollback("dep_1")
                self.assertEqual(cm.exception.code, "internal_error")

        self.run_async(main())
        self.assertEqual(s.peers[0], s.peers[1])
        self.assertNotEqual(s.peers[1], s.peers[2])
        self.assertEqual([r[0] for r in s.requests], ["GET", "GET", "POST", "POST"])

    def test_async_errors_lists_and_files(self) -> None:
        problem = {"type": "about:blank", "title": "Unprocessable Entity", "status": 422, "code": "missing_name",
                   "detail": "give a name", "errors": [{"field": "name", "detail": "missing"}]}
        url, s = self.server([(422, problem, {}),
                              (200, {"data": [{"id": "a"}], "next_cursor": "a"}, {}), (200, {"data": []}, {}),
                              (200, {"id": "sbx_1"}, {}), (204, b"", {}),
                              (200, b"data", {"Content-Type": "application/octet-stream"})])

        async def main() -> None:
            async with AsyncBerth(api_key="sk_test", base_url=url, backoff=0.01) as b:
                with self.assertRaises(BerthError) as cm:
                    await b.orgs.create(name="")
                self.assertEqual((cm.exception.status, cm.exception.code, cm.exception.errors),
                                 (422, "missing_name", problem["errors"]))
                self.assertEqual([o["id"] async for o in b.orgs.list()], ["a"])
                sbx = await b.sandboxes.retrieve("sbx_1")
                await sbx.files.write("a b/c.txt", "x")
                self.assertEqual(await sbx.files.read("q?.txt"), "data")

        self.run_async(main())
        self.assertEqual(s.requests[4][1], "/api/v1/sandboxes/sbx_1/files/a%20b/c.txt")
        self.assertEqual(s.requests[4][3], b"x")
        self.assertEqual(s.requests[5][1], "/api/v1/sandboxes/sbx_1/files/q%3F.txt")

    def test_async_no_server(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()

        async def main() -> None:
            b = AsyncBerth(api_key="k", base_url=f"http://127.0.0.1:{port}", backoff=0.01, max_retries=1)
            with self.assertRaises(BerthConnectionError):
                await b.deployments.retrieve("dep_1")

        self.run_async(main())


if __name__ == "__main__":
    unittest.main()
