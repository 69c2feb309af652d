"""Starts a real `berth up` (API, agent, edge, store, the real Docker
engine) as a child process for the tests, the way a user runs it."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

ADMIN_KEY = "sk_pysdktestadminkey00000000000000000000"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def docker_available() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Platform:
    """One running `bin/berth up` with a temp data dir, ports picked by the
    kernel and a known bootstrap key."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or os.environ.get("BERTH_BIN") or os.path.join(REPO, "bin", "berth")
        self.dir = tempfile.mkdtemp(prefix="berth-pysdk-")
        self.data_dir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "berth.log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.api_url = ""
        self.edge_url = ""

    def start(self, timeout: float = 60.0) -> "Platform":
        env = dict(os.environ)
        env["BERTH_BOOTSTRAP_KEY"] = ADMIN_KEY
        env["BERTH_CONFIG"] = os.path.join(self.dir, "config.json")
        env.pop("BERTH_API_URL", None)
        env.pop("BERTH_API_KEY", None)
        out_path = os.path.join(self.dir, "stdout")
        with open(out_path, "wb") as out, open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, "up", "--data-dir", self.data_dir, "--listen", "127.0.0.1:0",
                 "--edge-listen", "127.0.0.1:0", "--container-memory", "256MiB", "--container-cpus", "0.5"],
                stdout=out, stderr=log, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"berth up exited with {self.proc.returncode}: {self.tail()}")
            with open(out_path) as f:
                text = f.read()
            api = re.search(r"API:\s+(\S+)", text)
            apps = re.search(r"Apps:\s+(\S+)", text)
            if api and apps:
                self.api_url, self.edge_url = api.group(1), apps.group(1)
                break
            time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"berth up did not start in {timeout:g}s: {self.tail()}")
        # It said it is up; check that the API answers.
        with urllib.request.urlopen(self.api_url + "/api/v1/healthz", timeout=10) as r:
            if r.status != 200:
                raise RuntimeError(f"healthz answered {r.status}")
        return self

    @property
    def edge_port(self) -> int:
        return urlsplit(self.edge_url).port or 80

    def tail(self, n: int = 40) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._remove_containers()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _remove_containers(self) -> None:
        """Removes what this instance left on the engine (containers,
        volumes, networks), found by its instance label."""
        try:
            with open(os.path.join(self.data_dir, "instance"), "rb") as f:
                label = "label=berth.instance=" + f.read().hex()
        except OSError:
            return

        def ids(*cmd: str) -> list[str]:
            r = subprocess.run(["docker", *cmd, "--filter", label], capture_output=True, text=True)
            return r.stdout.split()

        if c := ids("ps", "-aq"):
            subprocess.run(["docker", "rm", "-f", "-v", *c], capture_output=True)
        if v := ids("volume", "ls", "-q"):
            subprocess.run(["docker", "volume", "rm", "-f", *v], capture_output=True)
        if n := ids("network", "ls", "-q"):
            subprocess.run(["docker", "network", "rm", *n], capture_output=True)


def web_get(url: str, *, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    """Sends a request to a URL the platform gave (a *.localhost name) at
    127.0.0.1, with the URL's host in the Host header, as a browser that
    resolves *.localhost to loopback does."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", u.port or 80, timeout=timeout)
    try:
        h = {"Host": u.netloc}
        h.update(headers or {})
        target = u.path or "/"
        if u.query:
            target += "?" + u.query
        conn.request(method, target, body=body, headers=h)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def eventually(seconds: float, what: str, f: Callable[[], T | None]) -> T:
    """Calls f until it returns something true, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        v = f()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g}s waiting for {what}")
        time.sleep(0.1)
