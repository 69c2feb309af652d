"""AsyncBerth: the same surface as Berth for asyncio code.

How it works, plainly: each call runs the synchronous client's method in
a worker thread with ``asyncio.to_thread``, so the event loop never
blocks, but each call in flight holds a thread (the default executor has
min(32, CPUs + 4)). Lists are async iterators that fetch each item (a page
at a time underneath) in a thread too. The connections are the
synchronous client's pool, which is thread-safe.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .client import Berth
from .sandbox import Sandbox

__all__ = ["AsyncBerth"]

# Methods that return iterators: they become async iterators.
_ITERATORS = frozenset({"list", "hosts", "runs", "stream"})
_DONE = object()


def _wrap(value: Any) -> Any:
    if isinstance(value, Sandbox):
        return _AsyncProxy(value)
    return value


class _AsyncIter:
    """An async iterator over a synchronous one made in a worker thread."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._it: Iterator[Any] | None = None

    def __aiter__(self) -> "_AsyncIter":
        return self

    async def __anext__(self) -> Any:
        if self._it is None:
            self._it = iter(await asyncio.to_thread(self._make))
        it = self._it
        v = await asyncio.to_thread(lambda: next(it, _DONE))
        if v is _DONE:
            raise StopAsyncIteration
        return _wrap(v)


class _AsyncProxy:
    """Stands for a resource (or a Sandbox, its files, its commands): its
    methods become coroutine functions, its other attributes are read as
    they are."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name in ("files", "commands"):
            return _AsyncProxy(attr)
        if not callable(attr):
            return attr
        if name in _ITERATORS:
            @functools.wraps(attr)
            def iterate(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
                return _AsyncIter(functools.partial(attr, *args, **kwargs))
            return iterate

        @functools.wraps(attr)
        async def call(*args: Any, **kwargs: Any) -> Any:
            return _wrap(await asyncio.to_thread(attr, *args, **kwargs))
        return call

    def __repr__(self) -> str:
        return f"Async{self._target!r}"


class AsyncBerth:
    """The asyncio client: the same resources, methods and arguments as
    Berth, each method a coroutine (``await berth.orgs.create(name=…)``),
    each list an async iterator (``async for p in berth.projects.list()``).
    Sandboxes come back as handles whose methods, ``files`` and
    ``commands`` are awaitable too. See the module's doc for how it runs."""

    # The resources, as awaitable stand-ins for Berth's (not typed method
    # by method).
    events: Any
    orgs: Any
    workspaces: Any
    projects: Any
    api_keys: Any
    sandboxes: Any
    releases: Any
    deployments: Any
    docker_deploy: Any
    templates: Any
    databases: Any
    buckets: Any
    cron_jobs: Any
    domains: Any
    routes: Any

    def __init__(self, api_key: str | None = None, base_url: str | None = None, **kwargs: Any) -> None:
        self.sync = Berth(api_key, base_url, **kwargs)
        self.base_url = self.sync.base_url
        for name in ("events", "orgs", "workspaces", "projects", "api_keys", "sandboxes", "releases",
                     "deployments", "docker_deploy", "templates", "databases", "buckets", "cron_jobs",
                     "domains", "routes"):
            setattr(self, name, _AsyncProxy(getattr(self.sync, name)))

    async def health(self) -> Any:
        return await asyncio.to_thread(self.sync.health)

    async def close(self) -> None:
        self.sync.close()

    async def __aenter__(self) -> "AsyncBerth":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
