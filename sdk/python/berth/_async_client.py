"""The client, ``AsyncBerth``, and one resource object per area of the API.
Every operation of api/openapi.yaml has a method here.

This module is the source of client.py (``Berth``), which gen_sync.py
makes from it by removing the asyncio keywords: edit this one."""

from __future__ import annotations

import builtins
import json as jsonlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Literal, TypeVar, cast

from . import types as t
from ._async_http import AsyncTransport
from ._http import DEFAULT_USER_AGENT, new_idempotency_key, path_segment as seg
from ._tar import tar_directory
from .errors import DeploymentFailed, WaitFailed, WaitTimeout
from ._async_sandbox import AsyncSandbox

__all__ = ["AsyncBerth"]

T = TypeVar("T")
PageKind = Literal["not-found", "bad-gateway", "loading", "tls-pending", "rate-limited"]

# Streams send a keep-alive comment every 15 s; a quiet stream is checked
# again after this long.
_STREAM_READ_TIMEOUT = 20.0


def _body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the fields that were given (None means absent)."""
    return {k: v for k, v in fields.items() if v is not None}


def _id(x: str | Mapping[str, Any] | AsyncSandbox) -> str:
    """Accepts an id, or a resource (as returned) whose id is wanted."""
    if isinstance(x, str):
        return x
    if isinstance(x, AsyncSandbox):
        return x.id
    return cast(str, x["id"])


class _Resource:
    def __init__(self, t: AsyncTransport) -> None:
        self._t = t

    async def _pages(self, path: str, query: Mapping[str, Any]) -> AsyncIterator[Any]:
        q = dict(query)
        while True:
            page = await self._t.json("GET", path, query=q)
            for item in page["data"]:
                yield item
            cursor = page.get("next_cursor")
            if not cursor:
                return
            q["cursor"] = cursor

    async def _create(self, path: str, body: Any, key: str | None, **kw: Any) -> Any:
        return await self._t.json("POST", path, json=body, idempotency_key=key or new_idempotency_key(), **kw)


class Orgs(_Resource):
    """Orgs: the customers of the platform."""

    async def create(self, *, name: str, slug: str | None = None, external_id: str | None = None,
                     idempotency_key: str | None = None) -> t.Org:
        """Creates an org (the platform key only)."""
        return await self._create("/orgs", _body(name=name, slug=slug, external_id=external_id), idempotency_key)

    async def retrieve(self, id: str) -> t.Org:
        return await self._t.json("GET", f"/orgs/{seg(id)}")

    def list(self, *, external_id: str | None = None, page_size: int | None = None) -> AsyncIterator[t.Org]:
        """Every org the key can see, over all pages."""
        return self._pages("/orgs", _body(external_id=external_id, limit=page_size))

    async def set_branding(self, id: str, branding: t.Branding) -> t.OwnerBranding:
        """Replaces every branding field the org sets."""
        return await self._t.json("PUT", f"/orgs/{seg(id)}/branding", json=dict(branding))

    async def get_branding(self, id: str) -> t.OwnerBranding:
        return await self._t.json("GET", f"/orgs/{seg(id)}/branding")

    async def set_page(self, id: str, kind: PageKind, html: str | bytes) -> t.Page:
        """Uploads the org's template of one of the edge's own pages."""
        data = html.encode() if isinstance(html, str) else html
        return await self._t.json("PUT", f"/orgs/{seg(id)}/pages/{seg(kind)}", body=data, content_type="text/html")

    async def get_page(self, id: str, kind: PageKind) -> str:
        return (await self._t.request("GET", f"/orgs/{seg(id)}/pages/{seg(kind)}")).body.decode()

    async def delete_page(self, id: str, kind: PageKind) -> None:
        await self._t.request("DELETE", f"/orgs/{seg(id)}/pages/{seg(kind)}")


class Workspaces(_Resource):
    """Workspaces: a client or team inside an org."""

    async def create(self, *, org_id: str, name: str, slug: str | None = None, external_id: str | None = None,
                     idempotency_key: str | None = None) -> t.Workspace:
        return await self._create("/workspaces", _body(org_id=org_id, name=name, slug=slug, external_id=external_id),
                                  idempotency_key)

    async def retrieve(self, id: str) -> t.Workspace:
        return await self._t.json("GET", f"/workspaces/{seg(id)}")

    def list(self, *, org_id: str | None = None, external_id: str | None = None,
             page_size: int | None = None) -> AsyncIterator[t.Workspace]:
        return self._pages("/workspaces", _body(org_id=org_id, external_id=external_id, limit=page_size))

    async def set_branding(self, id: str, branding: t.Branding) -> t.OwnerBranding:
        return await self._t.json("PUT", f"/workspaces/{seg(id)}/branding", json=dict(branding))

    async def get_branding(self, id: str) -> t.OwnerBranding:
        return await self._t.json("GET", f"/workspaces/{seg(id)}/branding")

    async def set_page(self, id: str, kind: PageKind, html: str | bytes) -> t.Page:
        data = html.encode() if isinstance(html, str) else html
        return await self._t.json("PUT", f"/workspaces/{seg(id)}/pages/{seg(kind)}", body=data,
                                  content_type="text/html")

    async def get_page(self, id: str, kind: PageKind) -> str:
        return (await self._t.request("GET", f"/workspaces/{seg(id)}/pages/{seg(kind)}")).body.decode()

    async def delete_page(self, id: str, kind: PageKind) -> None:
        await self._t.request("DELETE", f"/workspaces/{seg(id)}/pages/{seg(kind)}")


class Projects(_Resource):
    """Projects: one app each."""

    async def create(self, *, workspace_id: str, name: str, slug: str | None = None, external_id: str | None = None,
                     idempotency_key: str | None = None) -> t.Project:
        return await self._create("/projects", _body(workspace_id=workspace_id, name=name, slug=slug,
                                                     external_id=external_id), idempotency_key)

    async def retrieve(self, id: str) -> t.Project:
        return await self._t.json("GET", f"/projects/{seg(id)}")

    def list(self, *, org_id: str | None = None, workspace_id: str | None = None, external_id: str | None = None,
             page_size: int | None = None) -> AsyncIterator[t.Project]:
        return self._pages("/projects", _body(org_id=org_id, workspace_id=workspace_id, external_id=external_id,
                                              limit=page_size))


class APIKeys(_Resource):
    """Scoped API keys."""

    async def create(self, *, org_id: str, role: Literal["admin", "deployer", "viewer"], name: str | None = None,
                     workspace_id: str | None = None, project_id: str | None = None,
                     idempotency_key: str | None = None) -> t.APIKey:
        """Creates a key; its ``secret`` is in this answer only."""
        return await self._create("/api-keys", _body(name=name, org_id=org_id, workspace_id=workspace_id,
                                                     project_id=project_id, role=role), idempotency_key)

    async def current(self) -> t.APIKey:
        """The key this client calls with: its role and scope, never its secret."""
        return await self._t.json("GET", "/api-keys/self")


class Sandboxes(_Resource):
    """Sandboxes: editable containers with a preview URL."""

    async def create(self, *, project_id: str, template_id: str, env: Mapping[str, str] | None = None,
                     ports: list[int] | None = None, external_id: str | None = None, wait: bool = True,
                     idempotency_key: str | None = None) -> AsyncSandbox:
        """Creates a sandbox; unless wait=False the API waits up to 20 s for
        it to leave ``pending``."""
        data = await self._create("/sandboxes", _body(project_id=project_id, template_id=template_id,
                                                      env=dict(env) if env is not None else None, ports=ports,
                                                      external_id=external_id), idempotency_key,
                                  query=None if wait else {"wait": "false"})
        return AsyncSandbox(self._t, data)

    async def retrieve(self, id: str) -> AsyncSandbox:
        return AsyncSandbox(self._t, await self._t.json("GET", f"/sandboxes/{seg(id)}"))

    def connect(self, id: str) -> AsyncSandbox:
        """A handle on a sandbox whose id you kept, without a request: its
        files, commands, preview and publish work at once; its record
        (``data``) holds only the id until ``refresh()``."""
        return AsyncSandbox(self._t, cast(t.SandboxData, {"id": id}))

    async def list(self, *, project_id: str | None = None, external_id: str | None = None,
                   page_size: int | None = None) -> AsyncIterator[AsyncSandbox]:
        q = _body(project_id=project_id, external_id=external_id, limit=page_size)
        async for d in self._pages("/sandboxes", q):
            yield AsyncSandbox(self._t, d)


class Releases(_Resource):
    """Releases: immutable artifacts."""

    async def create(self, *, project_id: str, dir: str | os.PathLike[str] | None = None, tar: bytes | None = None,
                     template_id: str | None = None, port: int | None = None, command: str | None = None,
                     external_id: str | None = None, idempotency_key: str | None = None) -> t.Release:
        """Uploads an app's files as a release: a directory (``dir``, packed
        without .git and node_modules) or the bytes of a tar (``tar``)."""
        if (dir is None) == (tar is None):
            raise TypeError("releases.create takes one of dir= and tar=")
        if tar is None:
            tar = await self._t.blocking(tar_directory, cast(str, dir))
        q = _body(project_id=project_id, template_id=template_id, port=port, command=command,
                  external_id=external_id)
        return await self._t.json("POST", "/releases", query=q, body=tar, content_type="application/x-tar",
                                  idempotency_key=idempotency_key or new_idempotency_key(),
                                  timeout=max(self._t.timeout, 300))

    async def retrieve(self, id: str) -> t.Release:
        return await self._t.json("GET", f"/releases/{seg(id)}")

    def list(self, *, project_id: str | None = None, external_id: str | None = None,
             page_size: int | None = None) -> AsyncIterator[t.Release]:
        return self._pages("/releases", _body(project_id=project_id, external_id=external_id, limit=page_size))


class Events(_Resource):
    """Events of deployments, sandboxes, releases, domains, data services,
    hosts and orgs."""

    async def list(self, resource_id: str, *, after: int = 0) -> AsyncIterator[t.Event]:
        """Every event of the resource after ``after``, oldest first, over all pages."""
        while True:
            page = (await self._t.json("GET", "/events", query={"resource_id": resource_id, "after": after}))["data"]
            for e in page:
                yield e
            if not page:
                return
            after = page[-1]["seq"]

    async def last_seq(self, resource_id: str) -> int:
        """The seq of the resource's newest event (0 when it has none)."""
        after = 0
        async for e in self.list(resource_id):
            after = e["seq"]
        return after

    async def stream(self, resource_id: str, *, after: int = 0, timeout: float | None = None) -> AsyncIterator[t.Event]:
        """Follows the resource's events as they happen (server-sent events),
        from after ``after``; reconnects where it left off when the stream
        breaks. Ends after ``timeout`` seconds (None: never)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            read = _STREAM_READ_TIMEOUT if remaining is None else min(remaining, _STREAM_READ_TIMEOUT)
            s = await self._t.stream("/events", {"resource_id": resource_id, "after": after}, read_timeout=read)
            async with s:
                try:
                    async for msg in s:
                        ev = jsonlib.loads(msg.data)
                        after = ev["seq"]
                        yield ev
                        if deadline is not None:
                            remaining = deadline - time.monotonic()
                            if remaining <= 0:
                                return
                            s.set_read_timeout(min(remaining, _STREAM_READ_TIMEOUT))
                except TimeoutError:
                    pass

    async def wait_for(self, resource_id: str, get: Callable[[], Awaitable[T]], done: Callable[[T], bool], *,
                       timeout: float, on_event: Callable[[t.Event], Any] | None = None) -> T:
        """Waits until done(get()) holds, following the resource's events
        (server-sent events): get() is called once, then again after each
        event, which on_event also receives. done may raise to give up.
        Raises WaitTimeout (a TimeoutError) after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        after = await self.last_seq(resource_id)
        s = await self._t.stream("/events", {"resource_id": resource_id, "after": after},
                                 read_timeout=min(timeout, _STREAM_READ_TIMEOUT))
        try:
            # The stream is open before the first look: no change is missed.
            state = await get()
            if done(state):
                return state
            while True:
                try:
                    async for msg in s:
                        ev = jsonlib.loads(msg.data)
                        after = ev["seq"]
                        if on_event is not None:
                            on_event(ev)
                        state = await get()
                        if done(state):
                            return state
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        s.set_read_timeout(min(remaining, _STREAM_READ_TIMEOUT))
                except TimeoutError:
                    pass
                # Quiet for a while, or the stream ended: look again, then
                # follow from the last event seen on a new stream.
                state = await get()
                if done(state):
                    return state
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(f"{resource_id} did not get there in {timeout:g}s")
                s.close()
                s = await self._t.stream("/events", {"resource_id": resource_id, "after": after},
                                         read_timeout=min(remaining, _STREAM_READ_TIMEOUT))
        finally:
            s.close()


class Deployments(_Resource):
    """Deployments: a release running at a stable URL, with rollback."""

    def __init__(self, t: AsyncTransport, events: Events) -> None:
        super().__init__(t)
        self._events = events

    async def create(self, *, project_id: str, release_id: str,
                     deployment_product: Literal["standard", "docker_deploy"] | None = None,
                     env: Mapping[str, str] | None = None, metadata: Mapping[str, str] | None = None,
                     external_id: str | None = None, idempotency_key: str | None = None) -> t.Deployment:
        """Deploys a release; the rollout goes on in the background (see wait_ready)."""
        return await self._create("/deployments", _body(
            project_id=project_id, release_id=release_id, deployment_product=deployment_product,
            env=dict(env) if env is not None else None, metadata=dict(metadata) if metadata is not None else None,
            external_id=external_id), idempotency_key)

    async def retrieve(self, id: str) -> t.Deployment:
        return await self._t.json("GET", f"/deployments/{seg(id)}")

    def list(self, *, project_id: str | None = None, external_id: str | None = None,
             page_size: int | None = None) -> AsyncIterator[t.Deployment]:
        return self._pages("/deployments", _body(project_id=project_id, external_id=external_id, limit=page_size))

    async def delete(self, id: str) -> t.Deployment:
        """Stops it and takes its URL off the edge; ``status`` turns ``deleted`` later."""
        return await self._t.json("DELETE", f"/deployments/{seg(id)}")

    async def pause(self, id: str) -> t.Deployment:
        return await self._t.json("POST", f"/deployments/{seg(id)}/pause", safe=True)

    async def resume(self, id: str) -> t.Deployment:
        return await self._t.json("POST", f"/deployments/{seg(id)}/resume", safe=True)

    async def rollback(self, id: str, *, release_id: str | None = None) -> t.Deployment:
        """Points the deployment back at an earlier release (the previous one
        by default). Never retried on a server error: a second rollback
        would go back one more release."""
        return await self._t.json("POST", f"/deployments/{seg(id)}/rollback", json=_body(release_id=release_id))

    async def wait_ready(self, deployment: str | t.Deployment, *, timeout: float = 900.0,
                         on_event: Callable[[t.Event], Any] | None = None) -> t.Deployment:
        """Waits until the deployment serves the release it was last pointed
        at (``ready`` and ``serving_release_id == release_id``), following its
        events. Raises DeploymentFailed (``deployment_failed``, or
        ``deployment_paused``/``deployment_deleted`` when it will not get
        there) and WaitTimeout after ``timeout`` seconds."""
        dep_id = _id(deployment)

        def done(d: t.Deployment) -> bool:
            if d["status"] == "deleted" or d["desired_state"] != "running":
                state = "deleted" if d["status"] == "deleted" else d["desired_state"]
                raise DeploymentFailed(d, f"deployment_{state}",
                                       f"deployment {dep_id} is {state}: it will not become ready")
            if d["ready"] and d.get("serving_release_id") == d["release_id"]:
                return True
            if d["status"] == "failed":
                raise DeploymentFailed(d, "deployment_failed", d.get("status_reason") or f"deployment {dep_id} failed")
            return False

        return await self._events.wait_for(dep_id, lambda: self.retrieve(dep_id), done, timeout=timeout,
                                           on_event=on_event)

    async def wait_status(self, deployment: str | t.Deployment, status: str, *, timeout: float = 900.0,
                          on_event: Callable[[t.Event], Any] | None = None) -> t.Deployment:
        """Waits until the deployment's ``status`` is status (``paused``,
        ``deleted``…), following its events."""
        dep_id = _id(deployment)

        def done(d: t.Deployment) -> bool:
            return d["status"] == status

        return await self._events.wait_for(dep_id, lambda: self.retrieve(dep_id), done, timeout=timeout,
                                           on_event=on_event)


class DockerDeploy(_Resource):
    """Docker Deploy hosts (one per workspace) and the template catalogue."""

    def __init__(self, t: AsyncTransport, events: Events) -> None:
        super().__init__(t)
        self._events = events

    async def ensure(self, *, workspace_id: str, ssh: t.SSHTarget | None = None,
                     idempotency_key: str | None = None) -> t.Host:
        """Makes the workspace's host, or returns it (retrying it when it failed)."""
        return await self._create("/docker-deploy/hosts/ensure",
                                  _body(workspace_id=workspace_id, ssh=dict(ssh) if ssh is not None else None),
                                  idempotency_key)

    def hosts(self, *, workspace_id: str | None = None, page_size: int | None = None) -> AsyncIterator[t.Host]:
        return self._pages("/docker-deploy/hosts", _body(workspace_id=workspace_id, limit=page_size))

    async def retrieve_host(self, id: str) -> t.Host:
        return await self._t.json("GET", f"/docker-deploy/hosts/{seg(id)}")

    async def set_portal_password(self, host_id: str, password: str | None = None) -> t.PortalPassword:
        """Sets the portal's password, or generates one; answers the password in effect."""
        return await self._t.json("POST", f"/docker-deploy/hosts/{seg(host_id)}/portal-password",
                                  json=_body(password=password))

    async def wait_active(self, host: str | t.Host, *, timeout: float = 300.0,
                          on_event: Callable[[t.Event], Any] | None = None) -> t.Host:
        """Waits until the host is ``active``, following its events; raises
        WaitFailed ``host_failed`` when it fails, WaitTimeout after ``timeout``."""
        host_id = _id(host)

        def done(h: t.Host) -> bool:
            if h["state"] == "failed":
                raise WaitFailed(h, "host_failed", h.get("state_reason") or f"host {host_id} failed")
            return h["state"] == "active"

        return await self._events.wait_for(host_id, lambda: self.retrieve_host(host_id), done, timeout=timeout,
                                           on_event=on_event)


class Templates(_Resource):
    """The template catalogue."""

    def list(self) -> AsyncIterator[t.Template]:
        """Every template (the catalogue is one page)."""
        return self._pages("/docker-deploy/templates", {})

    async def retrieve(self, id: str) -> t.Template:
        return await self._t.json("GET", f"/docker-deploy/templates/{seg(id)}")


class Databases(_Resource):
    """Managed Postgres, MySQL and Redis."""

    def __init__(self, t: AsyncTransport, events: Events) -> None:
        super().__init__(t)
        self._events = events

    async def create(self, *, project_id: str, name: str, engine: Literal["postgres", "mysql", "redis"] | None = None,
                     external_id: str | None = None, idempotency_key: str | None = None) -> t.Database:
        """Creates a data service; its ``credentials`` are in this answer only."""
        return await self._create("/databases", _body(project_id=project_id, engine=engine, name=name,
                                                      external_id=external_id), idempotency_key)

    async def retrieve(self, id: str) -> t.Database:
        return await self._t.json("GET", f"/databases/{seg(id)}")

    def list(self, *, project_id: str | None = None, external_id: str | None = None,
             page_size: int | None = None) -> AsyncIterator[t.Database]:
        return self._pages("/databases", _body(project_id=project_id, external_id=external_id, limit=page_size))

    async def delete(self, id: str, *, purge: bool = False) -> t.Database | None:
        """Deletes it; returns None when it is gone, or the service (``deleting``)
        when removal takes longer than the API waits."""
        r = await self._t.request("DELETE", f"/databases/{seg(id)}", query={"purge": purge} if purge else None,
                                  timeout=max(self._t.timeout, 60))
        return r.json() if r.status == 202 else None

    async def reveal_credentials(self, id: str) -> t.DatabaseCredentials:
        return await self._t.json("POST", f"/databases/{seg(id)}/credentials/reveal", safe=True)

    async def rotate_credentials(self, id: str) -> t.Database:
        return await self._t.json("POST", f"/databases/{seg(id)}/credentials/rotate", timeout=max(self._t.timeout, 60))

    async def link(self, id: str, *, sandbox_id: str | None = None, deployment_id: str | None = None,
                   idempotency_key: str | None = None) -> t.DatabaseLink:
        """Gives a sandbox or deployment the service's variables."""
        target = _body(sandbox_id=sandbox_id, deployment_id=deployment_id)
        return await self._create(f"/databases/{seg(id)}/links", target, idempotency_key)

    async def links(self, id: str) -> builtins.list[t.DatabaseLink]:
        return cast(builtins.list[t.DatabaseLink], (await self._t.json("GET", f"/databases/{seg(id)}/links"))["data"])

    async def unlink(self, id: str, target_id: str) -> None:
        await self._t.request("DELETE", f"/databases/{seg(id)}/links/{seg(target_id)}")

    async def wait_healthy(self, database: str | t.Database, *, timeout: float = 300.0,
                           on_event: Callable[[t.Event], Any] | None = None) -> t.Database:
        """Waits until a real login to the service succeeded (``healthy``),
        following its events; raises WaitFailed ``database_failed`` when it
        ``failed``, WaitTimeout after ``timeout``."""
        db_id = _id(database)

        def done(d: t.Database) -> bool:
            if d["status"] == "failed":
                raise WaitFailed(d, "database_failed", d.get("status_reason") or f"database {db_id} failed")
            return d["status"] == "healthy"

        return await self._events.wait_for(db_id, lambda: self.retrieve(db_id), done, timeout=timeout,
                                           on_event=on_event)


class Buckets(_Resource):
    """S3 buckets with their own keys and presigned URLs."""

    async def create(self, *, project_id: str, name: str, external_id: str | None = None,
                     idempotency_key: str | None = None) -> t.Bucket:
        """Creates a bucket; its ``credentials`` are in this answer only."""
        return await self._create("/buckets", _body(project_id=project_id, name=name, external_id=external_id),
                                  idempotency_key)

    async def retrieve(self, id: str) -> t.Bucket:
        return await self._t.json("GET", f"/buckets/{seg(id)}")

    def list(self, *, project_id: str | None = None, external_id: str | None = None,
             page_size: int | None = None) -> AsyncIterator[t.Bucket]:
        return self._pages("/buckets", _body(project_id=project_id, external_id=external_id, limit=page_size))

    async def delete(self, id: str, *, force: bool = False) -> None:
        """Deletes an empty bucket, or with force=True its objects too."""
        await self._t.request("DELETE", f"/buckets/{seg(id)}", query={"force": force} if force else None)

    async def rotate_credentials(self, id: str) -> t.Bucket:
        return await self._t.json("POST", f"/buckets/{seg(id)}/credentials/rotate")

    async def presign(self, id: str, *, key: str, method: Literal["GET", "PUT"] = "GET", expires_in: int = 3600,
                      content_type: str | None = None) -> t.PresignedURL:
        """A presigned URL for a GET or PUT of one object; a PUT must send
        the answer's ``headers``."""
        return await self._t.json("POST", f"/buckets/{seg(id)}/presign", safe=True,
                                  json=_body(key=key, method=method, expires_in=expires_in, content_type=content_type))

    async def link(self, id: str, *, sandbox_id: str | None = None, deployment_id: str | None = None,
                   idempotency_key: str | None = None) -> t.BucketLink:
        target = _body(sandbox_id=sandbox_id, deployment_id=deployment_id)
        return await self._create(f"/buckets/{seg(id)}/links", target, idempotency_key)

    async def links(self, id: str) -> builtins.list[t.BucketLink]:
        return cast(builtins.list[t.BucketLink], (await self._t.json("GET", f"/buckets/{seg(id)}/links"))["data"])

    async def unlink(self, id: str, target_id: str) -> None:
        await self._t.request("DELETE", f"/buckets/{seg(id)}/links/{seg(target_id)}")


class CronJobs(_Resource):
    """Cron jobs against a deployment: an HTTP request or a command."""

    async def create(self, *, project_id: str, deployment_id: str, schedule: str, target: t.CronTarget,
                     name: str | None = None, timezone: str | None = None, enabled: bool | None = None,
                     concurrency: Literal["forbid", "allow"] | None = None, timeout_s: int | None = None,
                     idempotency_key: str | None = None) -> t.CronJob:
        return await self._create("/cron-jobs", _body(
            project_id=project_id, deployment_id=deployment_id, name=name, schedule=schedule, timezone=timezone,
            target=dict(target), enabled=enabled, concurrency=concurrency, timeout_s=timeout_s), idempotency_key)

    async def retrieve(self, id: str) -> t.CronJob:
        return await self._t.json("GET", f"/cron-jobs/{seg(id)}")

    def list(self, *, project_id: str | None = None, page_size: int | None = None) -> AsyncIterator[t.CronJob]:
        return self._pages("/cron-jobs", _body(project_id=project_id, limit=page_size))

    async def update(self, id: str, *, deployment_id: str | None = None, name: str | None = None,
                     schedule: str | None = None, timezone: str | None = None, target: t.CronTarget | None = None,
                     enabled: bool | None = None, concurrency: Literal["forbid", "allow"] | None = None,
                     timeout_s: int | None = None) -> t.CronJob:
        """Changes the given fields; ``target`` is replaced whole."""
        return await self._t.json("PATCH", f"/cron-jobs/{seg(id)}", json=_body(
            deployment_id=deployment_id, name=name, schedule=schedule, timezone=timezone,
            target=dict(target) if target is not None else None, enabled=enabled, concurrency=concurrency,
            timeout_s=timeout_s))

    async def delete(self, id: str) -> None:
        await self._t.request("DELETE", f"/cron-jobs/{seg(id)}")

    async def trigger(self, id: str, *, idempotency_key: str | None = None) -> t.CronRun:
        """Runs the job now; returns the recorded run."""
        return await self._create(f"/cron-jobs/{seg(id)}/trigger", None, idempotency_key)

    async def run(self, id: str, *, idempotency_key: str | None = None) -> t.CronRun:
        """The deprecated first name of trigger (POST /cron-jobs/{id}/run)."""
        return await self._create(f"/cron-jobs/{seg(id)}/run", None, idempotency_key)

    def runs(self, id: str, *, page_size: int | None = None) -> AsyncIterator[t.CronRun]:
        return self._pages(f"/cron-jobs/{seg(id)}/runs", _body(limit=page_size))

    async def retrieve_run(self, id: str, run_id: str) -> t.CronRun:
        return await self._t.json("GET", f"/cron-jobs/{seg(id)}/runs/{seg(run_id)}")


class Domains(_Resource):
    """Custom domains of an org, a workspace or one deployment."""

    async def create(self, *, hostname: str, org_id: str | None = None, workspace_id: str | None = None,
                     deployment_id: str | None = None, idempotency_key: str | None = None) -> t.Domain:
        """Adds a hostname (one of org_id, workspace_id, deployment_id);
        ``records`` says what to create at the DNS host."""
        return await self._create("/domains", _body(hostname=hostname, org_id=org_id, workspace_id=workspace_id,
                                                    deployment_id=deployment_id), idempotency_key)

    async def retrieve(self, id: str) -> t.Domain:
        return await self._t.json("GET", f"/domains/{seg(id)}")

    def list(self, *, org_id: str | None = None, workspace_id: str | None = None,
             page_size: int | None = None) -> AsyncIterator[t.Domain]:
        return self._pages("/domains", _body(org_id=org_id, workspace_id=workspace_id, limit=page_size))

    async def delete(self, id: str) -> None:
        await self._t.request("DELETE", f"/domains/{seg(id)}")

    async def verify(self, id: str) -> t.Domain:
        """Looks up the TXT record; a 422 ``dns_not_verified`` says what DNS answered."""
        return await self._t.json("POST", f"/domains/{seg(id)}/verify", safe=True)


class Routes(_Resource):
    async def resync(self) -> t.RoutesResync:
        """Every edge answers each hostname from the records again (platform key)."""
        return await self._t.json("POST", "/routes/resync", safe=True)


class AsyncBerth:
    """A client of the API.

    ``api_key`` and ``base_url`` default to the environment's
    ``BERTH_API_KEY`` and ``BERTH_API_URL``; ``base_url`` is the server's URL
    (``/api/v1`` is added when missing; default http://127.0.0.1:7700). ``user_agent`` is sent on every
    request; the default names no product. ``max_retries`` bounds the
    retries of one call (backoff with jitter, from ``backoff`` seconds).
    """

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *,
                 user_agent: str = DEFAULT_USER_AGENT, timeout: float = 60.0, max_retries: int = 3,
                 backoff: float = 0.25, ssl_context: Any = None) -> None:
        api_key = api_key or os.environ.get("BERTH_API_KEY")
        base_url = base_url or os.environ.get("BERTH_API_URL") or "http://127.0.0.1:7700"
        if not api_key:
            raise ValueError("no API key: pass api_key= or set BERTH_API_KEY")
        self._t = AsyncTransport(base_url, api_key, user_agent=user_agent, timeout=timeout, max_retries=max_retries,
                                 backoff=backoff, ssl_context=ssl_context)
        self.base_url = self._t.base_url
        self.events = Events(self._t)
        self.orgs = Orgs(self._t)
        self.workspaces = Workspaces(self._t)
        self.projects = Projects(self._t)
        self.api_keys = APIKeys(self._t)
        self.sandboxes = Sandboxes(self._t)
        self.releases = Releases(self._t)
        self.deployments = Deployments(self._t, self.events)
        self.docker_deploy = DockerDeploy(self._t, self.events)
        self.templates = Templates(self._t)
        self.databases = Databases(self._t, self.events)
        self.buckets = Buckets(self._t)
        self.cron_jobs = CronJobs(self._t)
        self.domains = Domains(self._t)
        self.routes = Routes(self._t)

    async def health(self) -> t.Health:
        """GET /healthz (needs no key)."""
        return await self._t.json("GET", "/healthz")

    async def close(self) -> None:
        """Closes the kept-alive connections."""
        await self._t.close()

    async def __aenter__(self) -> "AsyncBerth":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
