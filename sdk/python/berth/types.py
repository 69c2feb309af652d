"""The API's resources as TypedDicts: what the SDK returns is the JSON the
API answered, typed. Field names and meanings are those of api/openapi.yaml.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

__all__ = [
    "Org", "Workspace", "Project", "APIKey", "SandboxData", "Process", "Preview",
    "ExecResult", "FileEntry", "FileListing", "UploadResult", "Release", "Build",
    "Provenance", "FileDigest", "Deployment", "HistoryEntry", "Event", "Template",
    "Host", "PortalPassword", "HostTransition", "HostHealth", "HostUsage", "SSHTarget", "Database",
    "DatabaseCredentials", "DatabaseLink", "Bucket", "BucketCredentials", "BucketLink",
    "PresignedURL", "Domain", "DNSRecord", "Branding", "OwnerBranding", "Page",
    "RoutesResync", "CronJob", "CronTarget", "CronHTTP", "CronRun", "FieldError",
    "Health",
]


class Health(TypedDict):
    ok: bool


class Org(TypedDict):
    id: str
    slug: str
    name: str
    external_id: NotRequired[str]
    created_at: str


class Workspace(TypedDict):
    id: str
    org_id: str
    slug: str
    name: str
    external_id: NotRequired[str]
    created_at: str


class Project(TypedDict):
    id: str
    org_id: str
    workspace_id: str
    slug: str
    name: str
    external_id: NotRequired[str]
    created_at: str


class APIKey(TypedDict):
    id: str
    name: str
    prefix: str
    org_id: NotRequired[str]
    workspace_id: NotRequired[str]
    project_id: NotRequired[str]
    role: Literal["admin", "deployer", "viewer"]
    secret: NotRequired[str]
    created_at: str


class Process(TypedDict):
    id: str
    command: str
    cwd: NotRequired[str]


class SandboxData(TypedDict):
    id: str
    project_id: str
    template_id: str
    status: Literal["pending", "running", "failed", "stopped", "paused", "deleted"]
    status_reason: NotRequired[str]
    ports: list[int]
    env_names: list[str]
    preview_url: str
    preview_port: NotRequired[int]
    external_id: NotRequired[str]
    created_at: str
    updated_at: str
    processes: list[Process]


class Preview(TypedDict):
    url: str
    port: int
    ready: bool
    reason: NotRequired[str]


class ExecResult(TypedDict):
    exit_code: int
    stdout: str
    stderr: str
    truncated: NotRequired[bool]


class FileEntry(TypedDict):
    name: str
    type: Literal["file", "dir", "symlink", "other"]
    size: int
    mod_time: str


class FileListing(TypedDict):
    path: str
    entries: list[FileEntry]


class UploadResult(TypedDict):
    files: int


class Build(TypedDict):
    template_id: NotRequired[str]
    dockerfile: NotRequired[str]
    command: NotRequired[str]
    port: int


class FileDigest(TypedDict):
    path: str
    size: int
    sha256: str


class Provenance(TypedDict):
    source: Literal["sandbox", "upload"]
    source_sandbox_id: NotRequired[str]
    created_by: str
    created_at: str
    files: list[FileDigest]


class Release(TypedDict):
    id: str
    project_id: str
    sha256: str
    size: int
    env_manifest: list[str]
    build: Build
    provenance: Provenance
    external_id: NotRequired[str]
    created_at: str


class HistoryEntry(TypedDict):
    release_id: str
    reason: Literal["deploy", "rollback"]
    created_at: str


class Deployment(TypedDict):
    id: str
    project_id: str
    deployment_product: Literal["standard", "docker_deploy"]
    release_id: str
    serving_release_id: NotRequired[str]
    standby_release_id: NotRequired[str]
    status: Literal["pending", "building", "starting", "ready", "failed", "paused", "deleted"]
    status_reason: NotRequired[str]
    desired_state: Literal["running", "paused", "deleted"]
    ready: bool
    url: str
    env_names: list[str]
    metadata: dict[str, str]
    history: list[HistoryEntry]
    external_id: NotRequired[str]
    created_at: str
    updated_at: str


class Event(TypedDict):
    seq: int
    id: str
    resource_id: str
    type: str
    message: str
    created_at: str


class Template(TypedDict):
    id: str
    name: str
    description: str
    runtime: str
    dockerfile: str
    compose: NotRequired[str]
    dev_command: str
    build_command: NotRequired[str]
    start_command: str
    port: int
    env: dict[str, str]
    volumes: list[str]
    health_path: str
    design_context: str


class HostTransition(TypedDict):
    state: Literal["provisioning", "bootstrapping", "active", "failed"]
    reason: NotRequired[str]
    at: str


class HostHealth(TypedDict):
    status: Literal["unknown", "healthy", "unhealthy", "skipped"]
    detail: NotRequired[str]
    checked_at: NotRequired[str]


class HostUsage(TypedDict):
    containers: int
    memory_bytes: int
    cpus: float


class Host(TypedDict):
    id: str
    workspace_id: str
    state: Literal["provisioning", "bootstrapping", "active", "failed"]
    state_reason: NotRequired[str]
    transitions: list[HostTransition]
    agent: HostHealth
    portal: HostHealth
    portal_url: NotRequired[str]
    usage: HostUsage
    created_at: str
    updated_at: str


class PortalPassword(TypedDict):
    password: str


class SSHTarget(TypedDict):
    address: str
    user: str
    private_key: str
    host_key: NotRequired[str]
    agent_port: NotRequired[int]
    portal_port: NotRequired[int]


class DatabaseCredentials(TypedDict):
    username: str
    password: str
    database: NotRequired[str]
    host: str
    port: int
    url: str
    published_url: NotRequired[str]
    env: dict[str, str]


class Database(TypedDict):
    id: str
    project_id: str
    name: str
    engine: Literal["postgres", "mysql", "redis"]
    status: Literal["provisioning", "healthy", "unhealthy", "failed", "deleting"]
    status_reason: NotRequired[str]
    version: NotRequired[str]
    size_bytes: int
    image: str
    host: str
    port: int
    credentials_applied: bool
    external_id: NotRequired[str]
    created_at: str
    updated_at: str
    credentials: NotRequired[DatabaseCredentials]


class DatabaseLink(TypedDict):
    database_id: str
    sandbox_id: NotRequired[str]
    deployment_id: NotRequired[str]
    env_names: list[str]
    applied: bool
    created_at: str


class BucketCredentials(TypedDict):
    access_key_id: str
    secret_access_key: str
    env: dict[str, str]


class Bucket(TypedDict):
    id: str
    project_id: str
    name: str
    s3_name: str
    endpoint: str
    region: str
    key_scope: Literal["bucket", "operator"]
    access_key_id: NotRequired[str]
    credentials_version: int
    objects: NotRequired[int]
    bytes: NotRequired[int]
    external_id: NotRequired[str]
    created_at: str
    updated_at: str
    credentials: NotRequired[BucketCredentials]


class BucketLink(TypedDict):
    bucket_id: str
    sandbox_id: NotRequired[str]
    deployment_id: NotRequired[str]
    env_names: list[str]
    created_at: str


class PresignedURL(TypedDict):
    url: str
    method: Literal["GET", "PUT"]
    expires_at: str
    headers: dict[str, str]


class DNSRecord(TypedDict):
    type: Literal["TXT", "CNAME"]
    name: str
    value: str


class Domain(TypedDict):
    id: str
    hostname: str
    org_id: str
    workspace_id: NotRequired[str]
    deployment_id: NotRequired[str]
    level: Literal["org", "workspace", "deployment"]
    status: Literal["pending_verification", "verified", "certificate_issued", "failed"]
    status_reason: NotRequired[str]
    records: list[DNSRecord]
    url: NotRequired[str]
    verified_at: NotRequired[str]
    created_at: str
    updated_at: str


class Branding(TypedDict, total=False):
    product_name: str
    logo_url: str
    primary_color: str
    accent_color: str
    support_url: str
    support_email: str


class OwnerBranding(TypedDict):
    owner_id: str
    set: Branding
    effective: Branding


class Page(TypedDict):
    owner_id: str
    kind: Literal["not-found", "bad-gateway", "loading", "tls-pending", "rate-limited"]
    digest: str
    size: int
    updated_at: str


class RoutesResync(TypedDict):
    version: int
    hostnames: int


class CronHTTP(TypedDict, total=False):
    method: Literal["GET", "POST"]
    path: str
    headers: dict[str, str]
    header_names: list[str]
    body: str


class CronTarget(TypedDict, total=False):
    http: CronHTTP
    command: list[str]


class CronJob(TypedDict):
    id: str
    project_id: str
    deployment_id: str
    name: str
    schedule: str
    timezone: str
    target: CronTarget
    enabled: bool
    status: Literal["active", "paused"]
    status_reason: NotRequired[str]
    concurrency: Literal["forbid", "allow"]
    timeout_s: int
    next_run_at: NotRequired[str]
    created_at: str
    updated_at: str


class CronRun(TypedDict):
    id: str
    job_id: str
    trigger: Literal["schedule", "manual"]
    status: Literal["scheduled", "running", "succeeded", "failed", "timed_out", "skipped"]
    scheduled_at: str
    started_at: NotRequired[str]
    finished_at: NotRequired[str]
    duration_ms: NotRequired[int]
    http_status: NotRequired[int]
    exit_code: NotRequired[int]
    output: NotRequired[str]
    reason: NotRequired[str]


class FieldError(TypedDict):
    field: str
    detail: str
