"""The HTTP transport: keep-alive connections from a small pool, bounded
retries with backoff and jitter, problem+json errors. Standard library only
(http.client), so that the SDK installs anywhere."""

from __future__ import annotations

import http.client
import json as jsonlib
import random
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from .errors import BerthConnectionError, BerthError

__all__ = ["Transport", "new_idempotency_key", "DEFAULT_USER_AGENT"]

T = TypeVar("T")

VERSION = "0.1.0"
# White-label: nothing of the platform's name goes on the wire by default.
DEFAULT_USER_AGENT = f"python-sdk/{VERSION} python/{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}"

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def new_idempotency_key() -> str:
    """A fresh Idempotency-Key: the same key is sent on every retry of one call."""
    return uuid.uuid4().hex


def path_segment(s: str) -> str:
    """Percent-encodes one path segment (an id, a run id)."""
    return quote(s, safe="")


def file_path(p: str) -> str:
    """Percent-encodes each segment of a sandbox file path."""
    return "/".join(quote(s, safe="") for s in p.lstrip("/").split("/"))


class Response:
    """One answer: its status, headers and body."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None


class Transport:
    """Sends requests to one API with one key. Thread-safe: each request
    takes a connection from the pool and gives it back when the answer has
    been read."""

    def __init__(self, base_url: str, api_key: str, *, user_agent: str = DEFAULT_USER_AGENT,
                 timeout: float = 60.0, max_retries: int = 3, backoff: float = 0.25,
                 max_backoff: float = 8.0, ssl_context: ssl.SSLContext | None = None,
                 pool_size: int = 8) -> None:
        u = urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"base_url {base_url!r}: give the API's URL, such as http://127.0.0.1:7700")
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        base = u.path.rstrip("/")
        if not base.endswith("/api/v1"):
            base += "/api/v1"
        self.base_path = base
        self.base_url = f"{u.scheme}://{u.netloc}{base}"
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._ssl = ssl_context
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "User-Agent": user_agent,
            "Accept": "application/json",
        }
        self._pool: list[http.client.HTTPConnection] = []
        self._pool_size = pool_size
        self._lock = threading.Lock()

    # Connections.

    def _new_conn(self, timeout: float | None) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self._ssl)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def _take(self, timeout: float | None) -> http.client.HTTPConnection:
        with self._lock:
            conn = self._pool.pop() if self._pool else None
        if conn is None:
            return self._new_conn(timeout)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _give(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._pool) < self._pool_size:
                self._pool.append(conn)
                return
        conn.close()

    def blocking(self, f: Callable[..., T], *args: Any) -> T:
        """Runs blocking work (packing a directory); here, at once."""
        return f(*args)

    def close(self) -> None:
        """Closes the pooled connections."""
        with self._lock:
            pool, self._pool = self._pool, []
        for c in pool:
            c.close()

    # Requests.

    def url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        """The path (under /api/v1) with its query, as sent."""
        return _target(self.base_path, path, query)

    def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                json: Any = None, body: bytes | None = None, content_type: str | None = None,
                idempotency_key: str | None = None, timeout: float | None = None,
                safe: bool = False) -> Response:
        """Sends one request and returns its answer; raises BerthError for an
        answer of 400 or more.

        Retries, with exponential backoff and full jitter, network errors and
        answers 429, 500, 502, 503 and 504 when a retry cannot do a thing
        twice: GET, PUT and DELETE, POSTs with an Idempotency-Key, and POSTs
        the caller marks safe (doing them twice is doing them once: pause,
        resume, preview, verify, presign, reveal, resync). Other POSTs (exec,
        rollback, restart, rotate…) are retried only when the request surely
        did not arrive: a refused connection, a 429, or a kept-alive
        connection the server had already closed.
        """
        target = self.url(path, query)
        headers = dict(self._headers)
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode()
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        safe = safe or method in ("GET", "HEAD", "PUT", "DELETE") or bool(idempotency_key)
        timeout = self.timeout if timeout is None else timeout
        attempt = 0
        while True:
            conn = self._take(timeout)
            reused = conn.sock is not None
            sent = False
            try:
                if not reused:
                    conn.connect()
                conn.request(method, target, body=body, headers=headers)
                sent = True
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                stale = reused and isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError,
                                                  ConnectionResetError))
                if stale and attempt == 0:
                    # A kept-alive connection the server closed while it was
                    # idle: try again at once on a new one.
                    attempt += 1
                    continue
                if attempt < self.max_retries and (safe or not sent) and not isinstance(e, TimeoutError):
                    self._sleep(attempt, None)
                    attempt += 1
                    continue
                raise BerthConnectionError(f"{method} {path}: {e}", method=method, path=path) from e
            if resp.will_close:
                conn.close()
            else:
                self._give(conn)
            status = resp.status
            if status >= 400:
                if attempt < self.max_retries and status in _RETRY_STATUSES and (safe or status == 429):
                    self._sleep(attempt, resp.headers.get("Retry-After"))
                    attempt += 1
                    continue
                raise BerthError.from_response(status, data, method, path)
            return Response(status, resp.headers, data)

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        time.sleep(_backoff_delay(attempt, retry_after, self.backoff, self.max_backoff))

    def json(self, method: str, path: str, **kw: Any) -> Any:
        """request, then the answer's JSON."""
        return self.request(method, path, **kw).json()

    def stream(self, path: str, query: Mapping[str, Any] | None = None, *,
               read_timeout: float = 30.0) -> "SSEStream":
        """Opens a server-sent events stream on its own connection."""
        target = self.url(path, query)
        headers = dict(self._headers)
        headers["Accept"] = "text/event-stream"
        attempt = 0
        while True:
            conn = self._new_conn(read_timeout)
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                if attempt < self.max_retries and not isinstance(e, TimeoutError):
                    self._sleep(attempt, None)
                    attempt += 1
                    continue
                raise BerthConnectionError(f"GET {path}: {e}", method="GET", path=path) from e
            if resp.status >= 400:
                data = resp.read()
                conn.close()
                if attempt < self.max_retries and resp.status in _RETRY_STATUSES:
                    self._sleep(attempt, resp.headers.get("Retry-After"))
                    attempt += 1
                    continue
                raise BerthError.from_response(resp.status, data, "GET", path)
            return SSEStream(conn, resp)


def _query_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _target(base_path: str, path: str, query: Mapping[str, Any] | None) -> str:
    """The request target: the path under base_path with its query, as sent."""
    p = base_path + path
    if query:
        q = {k: _query_value(v) for k, v in query.items() if v is not None}
        if q:
            p += "?" + urlencode(q)
    return p


def _backoff_delay(attempt: int, retry_after: str | None, backoff: float, max_backoff: float) -> float:
    """How long to wait before retry number attempt: full jitter over an
    exponential bound, and at least the server's Retry-After (both capped)."""
    delay = random.uniform(0, min(max_backoff, backoff * (2 ** attempt)))
    if retry_after:
        try:
            delay = max(delay, min(float(retry_after), max_backoff))
        except ValueError:
            pass
    return delay


class SSEMessage:
    """One server-sent event: its id, event name and data."""

    __slots__ = ("id", "event", "data")

    def __init__(self, id: str, event: str, data: str) -> None:
        self.id = id
        self.event = event
        self.data = data


class _SSEParser:
    """Reads text/event-stream lines, one at a time, into messages."""

    def __init__(self) -> None:
        self._id, self._event, self._data = "", "", []  # type: str, str, list[str]

    def line(self, raw: bytes) -> SSEMessage | None:
        """Takes one line; returns the message a blank line completes."""
        line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        if not line:
            msg = None
            if self._data or self._event:
                msg = SSEMessage(self._id, self._event or "message", "\n".join(self._data))
            self._id, self._event, self._data = "", "", []
            return msg
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            self._id = value
        return None


class SSEStream:
    """Reads the messages of a text/event-stream answer."""

    def __init__(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse) -> None:
        self._conn = conn
        self._resp = resp

    def set_read_timeout(self, seconds: float) -> None:
        if self._conn.sock is not None:
            self._conn.sock.settimeout(max(seconds, 0.001))

    def __iter__(self) -> Iterator[SSEMessage]:
        """Yields each message; a read timeout raises TimeoutError and the end
        of the stream ends the iteration."""
        parser = _SSEParser()
        while True:
            raw = self._resp.readline()
            if not raw:
                return
            msg = parser.line(raw)
            if msg is not None:
                yield msg

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "SSEStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
