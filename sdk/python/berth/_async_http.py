"""The asyncio transport: HTTP/1.1 over asyncio streams, with the same
pool, retries and errors as the synchronous one (_http.py). Standard
library only."""

from __future__ import annotations

import asyncio
import json as jsonlib
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ._http import DEFAULT_USER_AGENT, _RETRY_STATUSES, SSEMessage, _backoff_delay, _SSEParser, _target
from .errors import BerthConnectionError, BerthError

__all__ = ["AsyncTransport"]

T = TypeVar("T")
_MAX_LINE = 64 * 1024


class Headers(dict[str, str]):
    """An answer's headers, by lower-case name."""

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


class AsyncResponse:
    """One answer: its status, headers and body."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None


class _Stale(Exception):
    """A kept-alive connection the server had closed."""


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()

    async def send(self, head: bytes, body: bytes | None) -> None:
        self.writer.write(head + body if body else head)
        await self.writer.drain()

    async def read_head(self, reused: bool) -> tuple[int, Headers, bool]:
        """Reads the status line and headers; the bool says whether the
        connection must close after this answer."""
        line = await self.reader.readline()
        if not line:
            if reused:
                raise _Stale()
            raise ConnectionResetError("the server closed the connection without answering")
        parts = line.decode("latin-1").split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ConnectionError(f"not an HTTP answer: {line[:80]!r}")
        version, status = parts[0], int(parts[1])
        headers = Headers()
        while True:
            h = await self.reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.decode("latin-1").partition(":")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        close = version == "HTTP/1.0" or "close" in headers.get("connection", "").lower()
        return status, headers, close

    async def read_body(self, method: str, status: int, headers: Headers) -> tuple[bytes, bool]:
        """Reads a whole body; the bool says whether it ran to the end of
        the connection (which then cannot be kept)."""
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return b"", False
        if "chunked" in headers.get("transfer-encoding", "").lower():
            out = bytearray()
            while True:
                chunk = await self.read_chunk()
                if not chunk:
                    return bytes(out), False
                out += chunk
        n = headers.get("content-length")
        if n is not None:
            return await self.reader.readexactly(int(n)), False
        return await self.reader.read(), True

    async def read_chunk(self) -> bytes:
        """One chunk of a chunked body (b"" after the last one, trailers read)."""
        size_line = await self.reader.readline()
        if not size_line:
            raise ConnectionResetError("the connection ended inside a chunked body")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return b""
        data = await self.reader.readexactly(size)
        await self.reader.readexactly(2)
        return data


class AsyncTransport:
    """Sends requests to one API with one key, from coroutines. Connections
    are kept alive in a pool tied to the running event loop."""

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
        default_port = 443 if u.scheme == "https" else 80
        self._host_header = self.host if self.port == default_port else f"{self.host}:{self.port}"
        if ":" in self.host:
            self._host_header = f"[{self.host}]" if self.port == default_port else f"[{self.host}]:{self.port}"
        base = u.path.rstrip("/")
        if not base.endswith("/api/v1"):
            base += "/api/v1"
        self.base_path = base
        self.base_url = f"{u.scheme}://{u.netloc}{base}"
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._ssl: ssl.SSLContext | None = None
        if u.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "User-Agent": user_agent,
            "Accept": "application/json",
        }
        self._pool: list[_Conn] = []
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._pool_size = pool_size

    async def _open(self, timeout: float | None) -> _Conn:
        async with asyncio.timeout(timeout):
            r, w = await asyncio.open_connection(self.host, self.port, ssl=self._ssl, limit=_MAX_LINE)
        return _Conn(r, w)

    def _take(self) -> _Conn | None:
        loop = asyncio.get_running_loop()
        if self._pool_loop is not loop:
            # Connections belong to the loop that made them.
            self._pool, self._pool_loop = [], loop
        while self._pool:
            c = self._pool.pop()
            if not c.reader.at_eof() and not c.writer.is_closing():
                return c
            c.close()
        return None

    def _give(self, c: _Conn) -> None:
        if self._pool_loop is asyncio.get_running_loop() and len(self._pool) < self._pool_size:
            self._pool.append(c)
        else:
            c.close()

    async def close(self) -> None:
        """Closes the pooled connections."""
        pool, self._pool = self._pool, []
        for c in pool:
            c.close()

    async def blocking(self, f: Callable[..., T], *args: Any) -> T:
        """Runs blocking work (packing a directory) in a worker thread."""
        return await asyncio.to_thread(f, *args)

    def url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        return _target(self.base_path, path, query)

    def _head(self, method: str, target: str, headers: Mapping[str, str], body: bytes | None) -> bytes:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._host_header}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                      json: Any = None, body: bytes | None = None, content_type: str | None = None,
                      idempotency_key: str | None = None, timeout: float | None = None,
                      safe: bool = False) -> AsyncResponse:
        """As Transport.request: the same retries, the same errors."""
        target = self.url(path, query)
        headers = dict(self._headers)
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode()
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        head = self._head(method, target, headers, body)
        safe = safe or method in ("GET", "HEAD", "PUT", "DELETE") or bool(idempotency_key)
        timeout = self.timeout if timeout is None else timeout
        attempt = 0
        while True:
            conn = self._take()
            reused = conn is not None
            sent = False
            try:
                async with asyncio.timeout(timeout):
                    if conn is None:
                        conn = await self._open(timeout)
                    await conn.send(head, body)
                    sent = True
                    status, rh, close = await conn.read_head(reused)
                    data, to_eof = await conn.read_body(method, status, rh)
            except asyncio.CancelledError:
                # Cancelled halfway through an exchange: the connection's
                # state is unknown, so it is not kept.
                if conn is not None:
                    conn.close()
                raise
            except (_Stale, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
                if conn is not None:
                    conn.close()
                stale = reused and isinstance(e, (_Stale, BrokenPipeError, ConnectionResetError))
                if stale and attempt == 0:
                    attempt += 1
                    continue
                if attempt < self.max_retries and (safe or not sent) and not isinstance(e, TimeoutError):
                    await self._sleep(attempt, None)
                    attempt += 1
                    continue
                raise BerthConnectionError(f"{method} {path}: {e or type(e).__name__}", method=method,
                                           path=path) from e
            if close or to_eof:
                conn.close()
            else:
                self._give(conn)
            if status >= 400:
                if attempt < self.max_retries and status in _RETRY_STATUSES and (safe or status == 429):
                    await self._sleep(attempt, rh.get("retry-after"))
                    attempt += 1
                    continue
                raise BerthError.from_response(status, data, method, path)
            return AsyncResponse(status, rh, data)

    async def _sleep(self, attempt: int, retry_after: str | None) -> None:
        await asyncio.sleep(_backoff_delay(attempt, retry_after, self.backoff, self.max_backoff))

    async def json(self, method: str, path: str, **kw: Any) -> Any:
        return (await self.request(method, path, **kw)).json()

    async def stream(self, path: str, query: Mapping[str, Any] | None = None, *,
                     read_timeout: float = 30.0) -> "AsyncSSEStream":
        """Opens a server-sent events stream on its own connection."""
        target = self.url(path, query)
        headers = dict(self._headers)
        headers["Accept"] = "text/event-stream"
        head = self._head("GET", target, headers, None)
        attempt = 0
        while True:
            conn: _Conn | None = None
            try:
                async with asyncio.timeout(read_timeout):
                    conn = await self._open(read_timeout)
                    await conn.send(head, None)
                    status, rh, _ = await conn.read_head(False)
                    if status >= 400:
                        data, _ = await conn.read_body("GET", status, rh)
            except asyncio.CancelledError:
                if conn is not None:
                    conn.close()
                raise
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
                if conn is not None:
                    conn.close()
                if attempt < self.max_retries and not isinstance(e, TimeoutError):
                    await self._sleep(attempt, None)
                    attempt += 1
                    continue
                raise BerthConnectionError(f"GET {path}: {e or type(e).__name__}", method="GET", path=path) from e
            if status >= 400:
                conn.close()
                if attempt < self.max_retries and status in _RETRY_STATUSES:
                    await self._sleep(attempt, rh.get("retry-after"))
                    attempt += 1
                    continue
                raise BerthError.from_response(status, data, "GET", path)
            return AsyncSSEStream(conn, "chunked" in rh.get("transfer-encoding", "").lower(), read_timeout)


class AsyncSSEStream:
    """Reads the messages of a text/event-stream answer."""

    def __init__(self, conn: _Conn, chunked: bool, read_timeout: float) -> None:
        self._conn = conn
        self._chunked = chunked
        self._timeout = read_timeout
        self._buf = b""
        self._done = False

    def set_read_timeout(self, seconds: float) -> None:
        self._timeout = max(seconds, 0.001)

    async def _readline(self) -> bytes:
        if not self._chunked:
            return await self._conn.reader.readline()
        while b"\n" not in self._buf:
            if self._done:
                line, self._buf = self._buf, b""
                return line
            chunk = await self._conn.read_chunk()
            if not chunk:
                self._done = True
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line + b"\n"

    async def __aiter__(self) -> AsyncIterator[SSEMessage]:
        """Yields each message; a quiet read past the timeout raises
        TimeoutError and the end of the stream ends the iteration."""
        parser = _SSEParser()
        while True:
            async with asyncio.timeout(self._timeout):
                raw = await self._readline()
            if not raw:
                return
            msg = parser.line(raw)
            if msg is not None:
                yield msg

    def close(self) -> None:
        self._conn.close()

    async def __aenter__(self) -> "AsyncSSEStream":
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
