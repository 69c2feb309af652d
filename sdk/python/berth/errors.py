"""Errors: every answer of 400 or more is a BerthError built from the
API's application/problem+json body."""

from __future__ import annotations

import json
from typing import Any

from .types import FieldError

__all__ = ["BerthError", "BerthConnectionError", "WaitFailed", "DeploymentFailed", "WaitTimeout"]


class BerthError(Exception):
    """An error answer of the API (RFC 9457 problem+json).

    Branch on ``code``, which is stable; ``detail`` is written for a person.
    """

    def __init__(self, status: int | None, code: str, detail: str, *, title: str = "",
                 type: str = "about:blank", errors: list[FieldError] | None = None,
                 method: str = "", path: str = "") -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title
        self.type = type
        self.errors: list[FieldError] = errors or []
        self.method = method
        self.path = path
        super().__init__(f"{code}: {detail}" if detail else code)

    @classmethod
    def from_response(cls, status: int, body: bytes, method: str = "", path: str = "") -> "BerthError":
        """Builds the error of an answer; a body that is not a problem
        becomes code ``http_<status>`` with the body as its detail."""
        p: Any = None
        try:
            p = json.loads(body)
        except ValueError:
            pass
        if not isinstance(p, dict) or not p.get("code"):
            return cls(status, f"http_{status}", body[:4096].decode("utf-8", "replace"), method=method, path=path)
        return cls(p.get("status") or status, p["code"], p.get("detail", ""), title=p.get("title", ""),
                   type=p.get("type", "about:blank"), errors=p.get("errors"), method=method, path=path)

    def __repr__(self) -> str:
        return f"BerthError(status={self.status!r}, code={self.code!r}, detail={self.detail!r})"


class BerthConnectionError(BerthError):
    """The API could not be reached (after the retries): no answer at all.
    ``status`` is None and ``code`` is ``connection_error``; the cause is
    chained (``__cause__``)."""

    def __init__(self, detail: str, *, method: str = "", path: str = "") -> None:
        super().__init__(None, "connection_error", detail, method=method, path=path)


class WaitFailed(BerthError):
    """What was waited for can no longer happen: the deployment failed or
    was paused or deleted (``deployment_failed``, ``deployment_paused``,
    ``deployment_deleted``), the host failed (``host_failed``), the data
    service failed (``database_failed``). ``status`` is None; ``resource``
    is its last state, as the API answered it."""

    def __init__(self, resource: Any, code: str, detail: str) -> None:
        super().__init__(None, code, detail)
        self.resource = resource


class DeploymentFailed(WaitFailed):
    """A deployment that was waited for failed, or was paused or deleted
    before it was ready."""

    @property
    def deployment(self) -> Any:
        return self.resource


class WaitTimeout(BerthError, TimeoutError):
    """A wait ran out of time (code ``timeout``); also a TimeoutError."""

    def __init__(self, detail: str) -> None:
        BerthError.__init__(self, None, "timeout", detail)
