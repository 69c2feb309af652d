"""A Python client of the platform's API: orgs, workspaces, projects,
sandboxes (files, commands, preview, publish), releases, deployments with
rollback, Docker Deploy hosts, databases, buckets, cron jobs, domains,
templates, API keys and events. Standard library only.

    from berth import Berth
    berth = Berth()  # BERTH_API_KEY, BERTH_API_URL
    org = berth.orgs.create(name="Clinic IQ")
"""

from ._async import AsyncBerth
from ._http import DEFAULT_USER_AGENT, VERSION as __version__
from ._tar import tar_directory
from .client import Berth
from .errors import BerthConnectionError, BerthError, DeploymentFailed, WaitFailed
from .sandbox import Commands, Files, Sandbox

__all__ = [
    "AsyncBerth", "Berth", "BerthConnectionError", "BerthError", "Commands", "DEFAULT_USER_AGENT",
    "DeploymentFailed", "Files", "Sandbox", "WaitFailed", "tar_directory", "__version__",
]
