"""A sandbox handle: its record, and its files, commands, preview and
publish.

Made by gen_sync.py from _async_sandbox.py: edit that file, not this one."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from . import types as t
from ._http import Transport
from ._http import file_path, new_idempotency_key, path_segment as seg
from ._tar import tar_directory

__all__ = ["Sandbox", "Files", "Commands"]

OutputCallback = Callable[[str], Any]


class Files:
    """The files of a sandbox, under /workspace in its container. Paths are
    relative to /workspace."""

    def __init__(self, tr: Transport, sandbox_id: str) -> None:
        self._t = tr
        self._base = f"/sandboxes/{seg(sandbox_id)}/files"

    def write(self, path: str, data: str | bytes) -> None:
        """Writes one file (parent directories are made); str is sent as UTF-8."""
        body = data.encode() if isinstance(data, str) else data
        self._t.request("PUT", f"{self._base}/{file_path(path)}", body=body,
                        content_type="application/octet-stream", timeout=max(self._t.timeout, 300))

    def read(self, path: str) -> str:
        """The file's content as UTF-8 text."""
        return self.read_bytes(path).decode()

    def read_bytes(self, path: str) -> bytes:
        """The file's bytes."""
        return self._t.request("GET", f"{self._base}/{file_path(path)}").body

    def list(self, path: str = "") -> list[t.FileEntry]:
        """The entries of a directory (the root by default), sorted by name."""
        p = self._base if path.strip("/") == "" else f"{self._base}/{file_path(path)}"
        listing: t.FileListing = self._t.json("GET", p)
        return listing["entries"]

    def remove(self, path: str) -> None:
        """Deletes a file, or a directory with everything in it."""
        self._t.request("DELETE", f"{self._base}/{file_path(path)}")

    def upload_tar(self, tar: bytes) -> t.UploadResult:
        """Extracts a tar over /workspace (nothing else is deleted)."""
        return self._t.json("PUT", self._base, body=tar, content_type="application/x-tar",
                            timeout=max(self._t.timeout, 300))

    def upload_dir(self, directory: str | os.PathLike[str]) -> t.UploadResult:
        """Uploads a local directory's files as one tar (without .git and
        node_modules), over /workspace."""
        return self.upload_tar(self._t.blocking(tar_directory, directory))


class Commands:
    """Commands run in a sandbox with ``sh -c``."""

    def __init__(self, tr: Transport, sandbox_id: str) -> None:
        self._t = tr
        self._path = f"/sandboxes/{seg(sandbox_id)}/exec"

    def run(self, cmd: str, *, cwd: str | None = None, env: Mapping[str, str] | None = None,
            timeout: int | None = None, on_stdout: OutputCallback | None = None,
            on_stderr: OutputCallback | None = None) -> t.ExecResult:
        """Runs a command and returns when it ends, with its exit code and
        output (a non-zero exit is not an error: check ``exit_code``).

        The API answers once the command has ended (it does not stream
        output yet), so ``on_stdout`` and ``on_stderr`` are each called
        once, with the whole output, when there is some. ``timeout`` is in
        seconds (API default 60, at most 600); running past it raises
        BerthError ``exec_timeout`` while the command goes on in the sandbox.
        """
        body: dict[str, Any] = {"command": cmd}
        if cwd is not None:
            body["cwd"] = cwd
        if env is not None:
            body["env"] = dict(env)
        if timeout is not None:
            body["timeout_seconds"] = timeout
        wait = (timeout if timeout and 0 < timeout <= 600 else 60) + 30
        res: t.ExecResult = self._t.json("POST", self._path, json=body, timeout=max(self._t.timeout, wait))
        if on_stdout is not None and res["stdout"]:
            on_stdout(res["stdout"])
        if on_stderr is not None and res["stderr"]:
            on_stderr(res["stderr"])
        return res

    def start(self, cmd: str, *, cwd: str | None = None, env: Mapping[str, str] | None = None) -> t.Process:
        """Starts a background process, relaunched whenever the container
        starts; its output goes to /tmp/<id>.log in the sandbox."""
        body: dict[str, Any] = {"command": cmd, "background": True}
        if cwd is not None:
            body["cwd"] = cwd
        if env is not None:
            body["env"] = dict(env)
        return self._t.json("POST", self._path, json=body)


class Sandbox:
    """A sandbox: ``data`` is its record as the API last answered it; the
    properties read it. ``files`` and ``commands`` act on the sandbox."""

    def __init__(self, tr: Transport, data: t.SandboxData) -> None:
        self._t = tr
        self.data = data
        self.files = Files(tr, data["id"])
        self.commands = Commands(tr, data["id"])

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def project_id(self) -> str:
        return self.data["project_id"]

    @property
    def template_id(self) -> str:
        return self.data["template_id"]

    @property
    def status(self) -> str:
        return self.data["status"]

    @property
    def preview_url(self) -> str:
        """The sandbox's preview URL, as the API gave it (it never changes)."""
        return self.data["preview_url"]

    @property
    def ports(self) -> list[int]:
        return self.data["ports"]

    @property
    def processes(self) -> list[t.Process]:
        return self.data["processes"]

    def refresh(self) -> "Sandbox":
        """Reads the sandbox's record again."""
        self.data = self._t.json("GET", f"/sandboxes/{seg(self.id)}")
        return self

    def restart(self) -> "Sandbox":
        """Restarts the container; files, background processes and the URL stay."""
        self.data = self._t.json("POST", f"/sandboxes/{seg(self.id)}/restart", timeout=max(self._t.timeout, 90))
        return self

    def stop(self) -> "Sandbox":
        """Stops the container; the files stay, and nothing starts it again
        until ``start``."""
        return self._lifecycle("stop")

    def start(self) -> "Sandbox":
        """Starts a stopped sandbox with its files and background processes
        (the dev server)."""
        return self._lifecycle("start")

    def pause(self) -> "Sandbox":
        """Freezes the sandbox: memory and processes are kept, nothing runs."""
        return self._lifecycle("pause")

    def resume(self) -> "Sandbox":
        """Thaws a paused sandbox where it was."""
        return self._lifecycle("resume")

    def delete(self) -> None:
        """Removes the container, the files and the preview; releases
        published from the sandbox stay. Deleting again succeeds."""
        self._t.request("DELETE", f"/sandboxes/{seg(self.id)}")

    def _lifecycle(self, action: str) -> "Sandbox":
        self.data = self._t.json("POST", f"/sandboxes/{seg(self.id)}/{action}", timeout=max(self._t.timeout, 90))
        return self

    def preview(self, *, port: int | None = None, wait_seconds: int | None = None) -> t.Preview:
        """Points the preview URL at a port (the one it serves by default) and
        waits up to ``wait_seconds`` (API default 30) until a request
        through the edge reaches the app: ``ready`` says whether it did, and
        ``url`` is the URL the server gave."""
        port = port or self.data.get("preview_port") or next(iter(self.data.get("ports") or []), None)
        if not port:
            raise TypeError("preview needs port= (this handle has not read the sandbox's record)")
        body: dict[str, Any] = {"port": port}
        if wait_seconds is not None:
            body["wait_seconds"] = wait_seconds
        wait = (wait_seconds if wait_seconds is not None else 30) + 30
        return self._t.json("POST", f"/sandboxes/{seg(self.id)}/preview", json=body, safe=True,
                            timeout=max(self._t.timeout, wait))

    def publish(self, *, idempotency_key: str | None = None) -> t.Release:
        """Freezes the sandbox's files into an immutable release."""
        return self._t.json("POST", f"/sandboxes/{seg(self.id)}/publish",
                            idempotency_key=idempotency_key or new_idempotency_key(),
                            timeout=max(self._t.timeout, 300))

    def __repr__(self) -> str:
        return f"Sandbox(id={self.id!r}, status={self.status!r}, preview_url={self.preview_url!r})"
