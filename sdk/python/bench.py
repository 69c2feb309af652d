"""The SDK's overhead per call against raw urllib: GET /sandboxes/{id},
1,000 calls each, medians, in the same run against a real `berth up` this
script starts (bin/berth, as the tests do). Not a test: a measurement.

    python3 sdk/python/bench.py [N]
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from berth import AsyncBerth, Berth  # noqa: E402
from tests.platform import ADMIN_KEY, Platform  # noqa: E402


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    p = Platform().start()
    try:
        run(p, n)
    finally:
        p.stop()


def run(p: Platform, n: int) -> None:
    b = Berth(api_key=ADMIN_KEY, base_url=p.api_url)
    org = b.orgs.create(name="Bench Co")
    ws = b.workspaces.create(org_id=org["id"], name="W")
    prj = b.projects.create(workspace_id=ws["id"], name="P")
    sbx = b.sandboxes.create(project_id=prj["id"], template_id="static-html")
    url = f"{p.api_url}/api/v1/sandboxes/{sbx.id}"
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Accept": "application/json"}

    def raw_urllib() -> None:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            json.loads(r.read())

    conn = http.client.HTTPConnection("127.0.0.1", int(p.api_url.rsplit(":", 1)[1]), timeout=10)
    path = f"/api/v1/sandboxes/{sbx.id}"

    def raw_keepalive() -> None:
        conn.request("GET", path, headers=headers)
        json.loads(conn.getresponse().read())

    def sdk() -> None:
        b.sandboxes.retrieve(sbx.id)

    ab = AsyncBerth(api_key=ADMIN_KEY, base_url=p.api_url)
    loop = asyncio.new_event_loop()

    def timed(f: Callable[[], object]) -> Callable[[int], list[float]]:
        def block(k: int) -> list[float]:
            out = []
            for _ in range(k):
                t0 = time.perf_counter()
                f()
                out.append(time.perf_counter() - t0)
            return out
        return block

    async def async_block(k: int) -> list[float]:
        out = []
        for _ in range(k):
            t0 = time.perf_counter()
            await ab.sandboxes.retrieve(sbx.id)
            out.append(time.perf_counter() - t0)
        return out

    cases: dict[str, Callable[[int], list[float]]] = {
        "raw urllib (urlopen, a connection per call)": timed(raw_urllib),
        "raw http.client, one kept-alive connection": timed(raw_keepalive),
        "Berth.sandboxes.retrieve": timed(sdk),
        "AsyncBerth.sandboxes.retrieve (awaited one at a time)": lambda k: loop.run_until_complete(async_block(k)),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    for block in cases.values():  # warm up
        block(20)
    # Interleaved blocks of 50, so that the machine's state is shared fairly.
    for _ in range(n // 50):
        for name, block in cases.items():
            times[name] += block(50)
    base = statistics.median(times["raw urllib (urlopen, a connection per call)"])
    print(f"GET /sandboxes/{{id}}, {n} calls each, python {sys.version.split()[0]}")
    print(f"{'client':52} {'median µs':>10} {'p90 µs':>8} {'× urllib':>9}")
    for name, ts in times.items():
        ts.sort()
        med = statistics.median(ts)
        print(f"{name:52} {med * 1e6:10.0f} {ts[int(len(ts) * 0.9)] * 1e6:8.0f} {med / base:9.2f}")
    conn.close()
    b.close()
    loop.run_until_complete(ab.close())
    loop.close()


if __name__ == "__main__":
    main()
