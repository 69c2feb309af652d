"""A Python client of the platform's API: orgs, workspaces, projects,
sandboxes (files, commands, preview, publish), releases, deployments with
rollback, Docker Deploy hosts, databases, buckets, cron jobs, domains,
templates, API keys and events. Standard library only.

    from berth import Berth
    client = Berth()  # BERTH_API_KEY, BERTH_API_URL
    org = client.orgs.create(name="Clinic IQ")

``AsyncBerth`` is the same client for asyncio, over asyncio streams.
"""

from ._async_client import AsyncBerth
from ._async_sandbox import AsyncCommands, AsyncFiles, AsyncSandbox
from ._http import DEFAULT_USER_AGENT, VERSION as __version__
from ._tar import tar_directory
from .client import Berth
from .errors import BerthConnectionError, BerthError, DeploymentFailed, WaitFailed, WaitTimeout
from .sandbox import Commands, Files, Sandbox

__all__ = [
    "AsyncBerth", "AsyncCommands", "AsyncFiles", "AsyncSandbox", "Berth", "BerthConnectionError", "BerthError",
    "Commands", "DEFAULT_USER_AGENT", "DeploymentFailed", "Files", "Sandbox", "WaitFailed", "WaitTimeout",
    "tar_directory", "__version__",
]
