import type { components, operations } from "./schema.js";
import { Transport, type Query, type RetryOptions, anySignal, sleep } from "./http.js";
import { BerthError } from "./errors.js";
import { Paginator } from "./pages.js";
import { Sandbox } from "./sandbox.js";
import { readSSE } from "./sse.js";
import { tarDirectory } from "./tar.js";
import { seg, snake, type Camel, type CallOptions, type CreateOptions } from "./util.js";

export { BerthError, type FieldError } from "./errors.js";
export { Paginator } from "./pages.js";
export { Sandbox, SandboxFiles, SandboxCommands, type RunOptions } from "./sandbox.js";
export { tarDirectory } from "./tar.js";
export type { RetryOptions } from "./http.js";
export type { Camel, CallOptions, CreateOptions } from "./util.js";
export type { components, operations, paths } from "./schema.js";

/** The API's resource shapes, as api/openapi.yaml defines them. */
export type Schemas = components["schemas"];
type S = Schemas;
type Q<Op extends keyof operations> = operations[Op]["parameters"]["query"];
type ListQuery<Op extends keyof operations> = Camel<Omit<NonNullable<Q<Op>>, "cursor">> & { signal?: AbortSignal };

/** Options of a Berth client. */
export interface BerthOptions {
  /** API key (default: $BERTH_API_KEY). */
  apiKey?: string;
  /** API URL, with or without /api/v1 (default: $BERTH_API_URL, else http://127.0.0.1:7700). */
  baseUrl?: string;
  /** User-Agent sent with every call (default: a neutral `js-sdk/<version>`). */
  userAgent?: string;
  /** Timeout of one attempt of a call, in ms (default 60000; long calls set their own). */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/** The SDK's version, sent in the default User-Agent. */
export const VERSION = "0.1.0";

/** Options of the waits that follow a resource's events. */
export interface WaitOptions {
  /** Give up after this long (default 15 minutes). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with every event of the resource seen while waiting. */
  onEvent?: (e: S["Event"]) => void;
}

/**
 * Berth is a client of the API. `new Berth()` reads BERTH_API_KEY and
 * BERTH_API_URL.
 */
export class Berth {
  readonly orgs: Orgs;
  readonly workspaces: Workspaces;
  readonly projects: Projects;
  readonly apiKeys: ApiKeys;
  readonly sandboxes: Sandboxes;
  readonly releases: Releases;
  readonly deployments: Deployments;
  readonly events: Events;
  readonly templates: Templates;
  readonly dockerDeploy: DockerDeploy;
  readonly databases: Databases;
  readonly buckets: Buckets;
  readonly cronJobs: CronJobs;
  readonly domains: Domains;
  readonly routes: Routes;
  /** The transport, for calls the SDK has no method for yet. */
  readonly transport: Transport;

  constructor(opts: BerthOptions = {}) {
    const apiKey = opts.apiKey ?? env("BERTH_API_KEY");
    if (!apiKey) throw new Error("no API key: pass apiKey or set BERTH_API_KEY");
    let baseUrl = (opts.baseUrl ?? env("BERTH_API_URL") ?? "http://127.0.0.1:7700").replace(/\/+$/, "");
    if (!baseUrl.endsWith("/api/v1")) baseUrl += "/api/v1";
    const t = new Transport({
      apiKey,
      baseUrl,
      userAgent: opts.userAgent ?? `js-sdk/${VERSION} node/${process.versions.node}`,
      timeoutMs: opts.timeoutMs ?? 60_000,
      retry: { maxRetries: 3, baseDelayMs: 200, maxDelayMs: 5_000, ...opts.retry },
      fetch: opts.fetch ?? globalThis.fetch.bind(globalThis),
    });
    this.transport = t;
    this.events = new Events(t);
    this.orgs = new Orgs(t);
    this.workspaces = new Workspaces(t);
    this.projects = new Projects(t);
    this.apiKeys = new ApiKeys(t);
    this.sandboxes = new Sandboxes(t);
    this.releases = new Releases(t);
    this.deployments = new Deployments(t, this.events);
    this.templates = new Templates(t);
    this.dockerDeploy = new DockerDeploy(t, this.events);
    this.databases = new Databases(t, this.events);
    this.buckets = new Buckets(t);
    this.cronJobs = new CronJobs(t);
    this.domains = new Domains(t);
    this.routes = new Routes(t);
  }

  /** health answers GET /healthz. */
  health(opts: CallOptions = {}): Promise<S["Health"]> {
    return this.transport.call({ op: "healthz", method: "GET", path: "/healthz", ...opts });
  }
}

function env(name: string): string | undefined {
  return typeof process !== "undefined" ? process.env[name] || undefined : undefined;
}

function listQuery(q: object | undefined): { query: Query; signal?: AbortSignal } {
  const { signal, ...rest } = (q ?? {}) as { signal?: AbortSignal };
  return { query: snake(rest) as Query, signal };
}

abstract class Resource {
  constructor(protected readonly t: Transport) {}

  protected post<T>(op: string, path: string, input: object, opts: CreateOptions = {}): Promise<T> {
    return this.t.call<T>({ op, method: "POST", path, json: snake(input), idempotencyKey: opts.idempotencyKey ?? true, signal: opts.signal, timeoutMs: opts.timeoutMs });
  }

  protected one<T>(op: string, path: string, opts: CallOptions = {}): Promise<T> {
    return this.t.call<T>({ op, method: "GET", path, ...opts });
  }

  protected paginate<T>(op: string, path: string, q?: object): Paginator<T> {
    const { query, signal } = listQuery(q);
    return new Paginator<T>(this.t, op, path, query, signal);
  }
}

/** Branding and custom pages of an org or a workspace. */
class Owned extends Resource {
  constructor(t: Transport, private readonly kind: "orgs" | "workspaces", private readonly ops: { getBranding: string; putBranding: string; getPage: string; putPage: string; deletePage: string }) {
    super(t);
  }

  /** getBranding returns the branding set on the owner and the one in effect. */
  getBranding(id: string, opts: CallOptions = {}): Promise<S["OwnerBranding"]> {
    return this.one(this.ops.getBranding, `/${this.kind}/${seg(id)}/branding`, opts);
  }

  /** setBranding replaces the owner's branding. */
  setBranding(id: string, branding: Camel<S["Branding"]>, opts: CallOptions = {}): Promise<S["OwnerBranding"]> {
    return this.t.call({ op: this.ops.putBranding, method: "PUT", path: `/${this.kind}/${seg(id)}/branding`, json: snake(branding), ...opts });
  }

  /** getPage returns the HTML template of one of the edge's own pages. */
  getPage(id: string, kind: S["Page"]["kind"], opts: CallOptions = {}): Promise<string> {
    return this.t.call({ op: this.ops.getPage, method: "GET", path: `/${this.kind}/${seg(id)}/pages/${seg(kind)}`, as: "text", accept: "text/html", ...opts });
  }

  /** setPage uploads the HTML template of one of the edge's own pages. */
  setPage(id: string, kind: S["Page"]["kind"], html: string, opts: CallOptions = {}): Promise<S["Page"]> {
    return this.t.call({ op: this.ops.putPage, method: "PUT", path: `/${this.kind}/${seg(id)}/pages/${seg(kind)}`, raw: { body: html, contentType: "text/html" }, ...opts });
  }

  /** deletePage makes the edge serve its own page of this kind again. */
  async deletePage(id: string, kind: S["Page"]["kind"], opts: CallOptions = {}): Promise<void> {
    await this.t.call({ op: this.ops.deletePage, method: "DELETE", path: `/${this.kind}/${seg(id)}/pages/${seg(kind)}`, ...opts });
  }
}

/** Orgs: the customers of the platform. Creating one needs the platform key. */
export class Orgs extends Owned {
  constructor(t: Transport) {
    super(t, "orgs", { getBranding: "getOrgBranding", putBranding: "putOrgBranding", getPage: "getOrgPage", putPage: "putOrgPage", deletePage: "deleteOrgPage" });
  }
  create(input: Camel<S["CreateOrg"]>, opts?: CreateOptions): Promise<S["Org"]> {
    return this.post("createOrg", "/orgs", input, opts);
  }
  retrieve(id: string, opts?: CallOptions): Promise<S["Org"]> {
    return this.one("getOrg", `/orgs/${seg(id)}`, opts);
  }
  list(q?: ListQuery<"listOrgs">): Paginator<S["Org"]> {
    return this.paginate("listOrgs", "/orgs", q);
  }
}

/** Workspaces: a client or team inside an org. */
export class Workspaces extends Owned {
  constructor(t: Transport) {
    super(t, "workspaces", { getBranding: "getWorkspaceBranding", putBranding: "putWorkspaceBranding", getPage: "getWorkspacePage", putPage: "putWorkspacePage", deletePage: "deleteWorkspacePage" });
  }
  create(input: Camel<S["CreateWorkspace"]>, opts?: CreateOptions): Promise<S["Workspace"]> {
    return this.post("createWorkspace", "/workspaces", input, opts);
  }
  retrieve(id: string, opts?: CallOptions): Promise<S["Workspace"]> {
    return this.one("getWorkspace", `/workspaces/${seg(id)}`, opts);
  }
  list(q?: ListQuery<"listWorkspaces">): Paginator<S["Workspace"]> {
    return this.paginate("listWorkspaces", "/workspaces", q);
  }
}

/** Projects: one app each. */
export class Projects extends Resource {
  create(input: Camel<S["CreateProject"]>, opts?: CreateOptions): Promise<S["Project"]> {
    return this.post("createProject", "/projects", input, opts);
  }
  retrieve(id: string, opts?: CallOptions): Promise<S["Project"]> {
    return this.one("getProject", `/projects/${seg(id)}`, opts);
  }
  list(q?: ListQuery<"listProjects">): Paginator<S["Project"]> {
    return this.paginate("listProjects", "/projects", q);
  }
}

/** API keys: its `secret` is in the create answer only. */
export class ApiKeys extends Resource {
  create(input: Camel<S["CreateAPIKey"]>, opts?: CreateOptions): Promise<S["APIKey"]> {
    return this.post("createAPIKey", "/api-keys", input, opts);
  }
  /** self is the key the client calls with: its role and scope, never its secret. */
  self(opts?: CallOptions): Promise<S["APIKey"]> {
    return this.one("getSelfAPIKey", "/api-keys/self", opts);
  }
}

/** Sandboxes: editable containers with a files volume and a preview URL. */
export class Sandboxes extends Resource {
  /**
   * create starts a sandbox from a template and waits (up to 20 s) for it to
   * leave `pending`, unless `wait` is false.
   */
  async create(input: Camel<S["CreateSandbox"]> & { wait?: boolean }, opts: CreateOptions = {}): Promise<Sandbox> {
    const { wait, ...body } = input;
    const data = await this.t.call<S["Sandbox"]>({
      op: "createSandbox",
      method: "POST",
      path: "/sandboxes",
      query: { wait: wait === false ? "false" : undefined },
      json: snake(body),
      idempotencyKey: opts.idempotencyKey ?? true,
      timeoutMs: opts.timeoutMs ?? 120_000,
      signal: opts.signal,
    });
    return new Sandbox(this.t, data);
  }
  async retrieve(id: string, opts?: CallOptions): Promise<Sandbox> {
    return new Sandbox(this.t, await this.one<S["Sandbox"]>("getSandbox", `/sandboxes/${seg(id)}`, opts));
  }
  list(q?: ListQuery<"listSandboxes">): Paginator<Sandbox> {
    const { query, signal } = listQuery(q);
    return new Paginator<Sandbox>(this.t, "listSandboxes", "/sandboxes", query, signal, (d) => new Sandbox(this.t, d));
  }
  /** connect returns a handle on a sandbox by id without fetching it (its fields are not set). */
  connect(id: string): Sandbox {
    return new Sandbox(this.t, { id } as S["Sandbox"]);
  }
}

/** Releases: immutable tars of an app's files. */
export class Releases extends Resource {
  /**
   * create uploads a release: a directory (packed without .git and
   * node_modules) or the bytes of an uncompressed tar.
   */
  async create(input: Camel<NonNullable<Q<"createRelease">>> & { dir?: string; tar?: Uint8Array }, opts: CreateOptions = {}): Promise<S["Release"]> {
    const { dir, tar, ...query } = input;
    const body = tar ?? (dir !== undefined ? await tarDirectory(dir) : undefined);
    if (!body) throw new TypeError("releases.create needs dir or tar");
    return this.t.call({
      op: "createRelease",
      method: "POST",
      path: "/releases",
      query: snake(query) as Query,
      raw: { body, contentType: "application/x-tar" },
      idempotencyKey: opts.idempotencyKey ?? true,
      timeoutMs: opts.timeoutMs ?? 300_000,
      signal: opts.signal,
    });
  }
  retrieve(id: string, opts?: CallOptions): Promise<S["Release"]> {
    return this.one("getRelease", `/releases/${seg(id)}`, opts);
  }
  list(q?: ListQuery<"listReleases">): Paginator<S["Release"]> {
    return this.paginate("listReleases", "/releases", q);
  }
}

/** Deployments: a release running at a stable URL, with history and rollback. */
export class Deployments extends Resource {
  constructor(t: Transport, private readonly events: Events) {
    super(t);
  }
  /**
   * create deploys a release. The first deploy of a project (per product)
   * creates the deployment; later ones point the same deployment at the new
   * release.
   */
  create(input: Omit<Camel<S["CreateDeployment"]>, "deploymentProduct"> & { deploymentProduct?: S["CreateDeployment"]["deployment_product"] }, opts?: CreateOptions): Promise<S["Deployment"]> {
    return this.post("createDeployment", "/deployments", input, opts);
  }
  retrieve(id: string, opts?: CallOptions): Promise<S["Deployment"]> {
    return this.one("getDeployment", `/deployments/${seg(id)}`, opts);
  }
  list(q?: ListQuery<"listDeployments">): Paginator<S["Deployment"]> {
    return this.paginate("listDeployments", "/deployments", q);
  }
  /** rollback switches back to the previous release, or to releaseId from the history. */
  rollback(id: string, input: { releaseId?: string } = {}, opts: CallOptions = {}): Promise<S["Deployment"]> {
    return this.t.call({ op: "rollback", method: "POST", path: `/deployments/${seg(id)}/rollback`, json: snake(input), ...opts });
  }
  /** pause stops the deployment's containers; resume starts them again. */
  pause(id: string, opts: CallOptions = {}): Promise<S["Deployment"]> {
    return this.t.call({ op: "pauseDeployment", method: "POST", path: `/deployments/${seg(id)}/pause`, safe: true, ...opts });
  }
  resume(id: string, opts: CallOptions = {}): Promise<S["Deployment"]> {
    return this.t.call({ op: "resumeDeployment", method: "POST", path: `/deployments/${seg(id)}/resume`, safe: true, ...opts });
  }
  /** delete removes the deployment's containers and takes its URL off the edge. */
  delete(id: string, opts: CallOptions = {}): Promise<S["Deployment"]> {
    return this.t.call({ op: "deleteDeployment", method: "DELETE", path: `/deployments/${seg(id)}`, ...opts });
  }

  /**
   * waitReady follows the deployment's events until the release it points
   * at serves (`ready` and `serving_release_id == release_id`), and returns
   * the deployment. A failed deployment throws a BerthError with code
   * `deployment_failed` and the reason as detail.
   */
  waitReady(id: string, opts: WaitOptions = {}): Promise<S["Deployment"]> {
    return this.events.waitFor(id, opts, async (signal) => {
      const d = await this.retrieve(id, { signal });
      if (d.ready && d.serving_release_id === d.release_id) return d;
      if (d.status === "failed") throw new BerthError({ status: 0, code: "deployment_failed", detail: d.status_reason ?? "the deployment failed", operation: "waitReady" });
      if (d.status === "deleted" || d.desired_state !== "running") throw new BerthError({ status: 0, code: `deployment_${d.status}`, detail: `the deployment is ${d.desired_state === "running" ? d.status : d.desired_state}, it will not become ready`, operation: "waitReady" });
      return undefined;
    });
  }

  /** waitStatus follows the deployment's events until its status is status (e.g. `paused`, `deleted`). */
  waitStatus(id: string, status: S["Deployment"]["status"], opts: WaitOptions = {}): Promise<S["Deployment"]> {
    return this.events.waitFor(id, opts, async (signal) => {
      const d = await this.retrieve(id, { signal });
      return d.status === status ? d : undefined;
    });
  }
}

/** Events of a resource: a deployment, sandbox, release, domain, data service, host or org. */
export class Events extends Resource {
  /** list iterates over the resource's events, oldest first, after seq `after`. */
  list(q: { resourceId: string; after?: number; signal?: AbortSignal }): AsyncIterable<S["Event"]> {
    const t = this.t;
    return {
      async *[Symbol.asyncIterator]() {
        let after = q.after;
        for (;;) {
          const r = await t.call<S["EventList"]>({ op: "listEvents", method: "GET", path: "/events", query: { resource_id: q.resourceId, after }, signal: q.signal });
          yield* r.data;
          if (r.data.length === 0 || !r.next_cursor) return;
          after = r.data[r.data.length - 1]!.seq;
        }
      },
    };
  }

  /**
   * stream follows the resource's events as server-sent events, from after
   * `after`, until signal aborts. It reconnects (from the last event seen)
   * when the stream drops.
   */
  async *stream(q: { resourceId: string; after?: number; signal?: AbortSignal }): AsyncGenerator<S["Event"]> {
    let after = q.after;
    for (let failures = 0; ; ) {
      try {
        const res = await this.t.call<Response>({ op: "listEvents", method: "GET", path: "/events", query: { resource_id: q.resourceId, after }, accept: "text/event-stream", as: "response", timeoutMs: 2 ** 31 - 1, signal: q.signal });
        if (!res.headers.get("content-type")?.startsWith("text/event-stream")) {
          await res.body?.cancel().catch(() => {});
          throw new BerthError({ status: res.status, code: "not_an_event_stream", detail: `GET /events answered ${res.headers.get("content-type")}, not text/event-stream: is a proxy in the way?`, operation: "listEvents" });
        }
        for await (const m of readSSE(res.body!)) {
          failures = 0;
          if (!m.data) continue;
          const e = JSON.parse(m.data) as S["Event"];
          after = e.seq;
          yield e;
        }
        // The server closed the stream (a restart, a proxy's idle timeout): reconnect.
        await sleep(500 + Math.random() * 500, q.signal);
      } catch (err) {
        if (q.signal?.aborted) throw q.signal.reason ?? err;
        if (err instanceof BerthError && err.status >= 400) throw err;
        if (++failures > 5) throw err;
        await sleep(Math.random() * Math.min(5_000, 250 * 2 ** failures), q.signal);
      }
    }
  }

  /**
   * waitFor checks the resource with check, then again after each of its
   * events, until check returns a value (or throws). Events seen before the
   * first check are skipped: the check sees their effect.
   */
  async waitFor<T>(resourceId: string, opts: WaitOptions, check: (signal: AbortSignal) => Promise<T | undefined>): Promise<T> {
    const ctl = new AbortController();
    const timeoutMs = opts.timeoutMs ?? 15 * 60_000;
    const timer = setTimeout(() => ctl.abort(new BerthError({ status: 0, code: "timeout", detail: `${resourceId} did not get there in ${timeoutMs} ms`, operation: "wait" })), timeoutMs);
    const combined = opts.signal ? anySignal([opts.signal, ctl.signal]) : undefined;
    const signal = combined?.signal ?? ctl.signal;
    try {
      // The last event before the first check: the stream starts after it,
      // so nothing that happens after the check is missed.
      let last: number | undefined;
      for await (const e of this.list({ resourceId, signal })) last = e.seq;
      const first = await check(signal);
      if (first !== undefined) return first;
      for await (const e of this.stream({ resourceId, after: last, signal })) {
        opts.onEvent?.(e);
        const v = await check(signal);
        if (v !== undefined) return v;
      }
      throw signal.reason;
    } catch (err) {
      throw signal.aborted ? signal.reason : err;
    } finally {
      clearTimeout(timer);
      combined?.release();
      ctl.abort();
    }
  }
}

/** Templates: the catalogue apps are built from. */
export class Templates extends Resource {
  list(opts: CallOptions = {}): Paginator<S["Template"]> {
    return new Paginator<S["Template"]>(this.t, "listTemplates", "/docker-deploy/templates", {}, opts.signal);
  }
  retrieve(id: string, opts?: CallOptions): Promise<S["Template"]> {
    return this.one("getTemplate", `/docker-deploy/templates/${seg(id)}`, opts);
  }
}

/** Docker Deploy: a workspace's own host, which docker_deploy deployments run on. */
export class DockerDeploy extends Resource {
  constructor(t: Transport, private readonly events: Events) {
    super(t);
  }
  /**
   * ensure gives the workspace its host (the local provisioner's, or a server
   * reached over `ssh`) or returns the one it has; a failed host is retried.
   */
  ensure(input: Camel<S["EnsureHost"]>, opts?: CreateOptions): Promise<S["Host"]> {
    return this.post("ensureHost", "/docker-deploy/hosts/ensure", input, { timeoutMs: 120_000, ...opts });
  }
  /** hosts iterates over the hosts (of one workspace with workspaceId). */
  hosts(q?: ListQuery<"listHosts">): Paginator<S["Host"]> {
    return this.paginate("listHosts", "/docker-deploy/hosts", q);
  }
  retrieveHost(id: string, opts?: CallOptions): Promise<S["Host"]> {
    return this.one("getHost", `/docker-deploy/hosts/${seg(id)}`, opts);
  }
  /** setPortalPassword sets the portal's password, or generates one when none is given. */
  setPortalPassword(id: string, input: { password?: string } = {}, opts: CallOptions = {}): Promise<S["PortalPassword"]> {
    return this.t.call({ op: "setPortalPassword", method: "POST", path: `/docker-deploy/hosts/${seg(id)}/portal-password`, json: input, ...opts });
  }
  /** waitActive follows the host's events until it is active; a failed host throws `host_failed`. */
  waitActive(id: string, opts: WaitOptions = {}): Promise<S["Host"]> {
    return this.events.waitFor(id, opts, async (signal) => {
      const h = await this.retrieveHost(id, { signal });
      if (h.state === "active") return h;
      if (h.state === "failed") throw new BerthError({ status: 0, code: "host_failed", detail: h.state_reason ?? "the host failed", operation: "waitActive" });
      return undefined;
    });
  }
}

/** Managed Postgres, MySQL and Redis services of a project. */
export class Databases extends Resource {
  constructor(t: Transport, private readonly events: Events) {
    super(t);
  }
  /** create starts a data service; its `credentials` are in this answer only. */
  create(input: Omit<Camel<S["CreateDatabase"]>, "engine"> & { engine?: S["CreateDatabase"]["engine"] }, opts?: CreateOptions): Promise<S["Database"]> {
    return this.post("createDatabase", "/databases", input, opts);
  }
  retrieve(id: string, opts?: CallOptions): Promise<S["Database"]> {
    return this.one("getDatabase", `/databases/${seg(id)}`, opts);
  }
  list(q?: ListQuery<"listDatabases">): Paginator<S["Database"]> {
    return this.paginate("listDatabases", "/databases", q);
  }
  async delete(id: string, q: { purge?: boolean } & CallOptions = {}): Promise<S["Database"] | undefined> {
    const { purge, ...opts } = q;
    return this.t.call({ op: "deleteDatabase", method: "DELETE", path: `/databases/${seg(id)}`, query: { purge: purge === undefined ? undefined : String(purge) }, ...opts });
  }
  revealCredentials(id: string, opts: CallOptions = {}): Promise<S["DatabaseCredentials"]> {
    return this.t.call({ op: "revealDatabaseCredentials", method: "POST", path: `/databases/${seg(id)}/credentials/reveal`, safe: true, ...opts });
  }
  rotateCredentials(id: string, opts: CallOptions = {}): Promise<S["Database"]> {
    return this.t.call({ op: "rotateDatabaseCredentials", method: "POST", path: `/databases/${seg(id)}/credentials/rotate`, ...opts });
  }
  /** link gives a sandbox or a deployment the service's env (DATABASE_URL…); the target restarts with it. */
  link(id: string, target: Camel<S["CreateDatabaseLink"]>, opts?: CreateOptions): Promise<S["DatabaseLink"]> {
    return this.post("linkDatabase", `/databases/${seg(id)}/links`, target, opts);
  }
  links(id: string, opts: CallOptions = {}): Paginator<S["DatabaseLink"]> {
    return new Paginator<S["DatabaseLink"]>(this.t, "listDatabaseLinks", `/databases/${seg(id)}/links`, {}, opts.signal);
  }
  async unlink(id: string, targetId: string, opts: CallOptions = {}): Promise<void> {
    await this.t.call({ op: "unlinkDatabase", method: "DELETE", path: `/databases/${seg(id)}/links/${seg(targetId)}`, ...opts });
  }
  /** waitHealthy follows the service's events until it is healthy; `failed` throws `database_failed`. */
  waitHealthy(id: string, opts: WaitOptions = {}): Promise<S["Database"]> {
    return this.events.waitFor(id, opts, async (signal) => {
      const d = await this.retrieve(id, { signal });
      if (d.status === "healthy") return d;
      if (d.status === "failed") throw new BerthError({ status: 0, code: "database_failed", detail: d.status_reason ?? "the database failed", operation: "waitHealthy" });
      return undefined;
    });
  }
}

/** S3 buckets of a project, with their own keys and presigned URLs. */
export class Buckets extends Resource {
  /** create makes a bucket; its `credentials` are in this answer only. */
  create(input: Camel<S["CreateBucket"]>, opts?: CreateOptions): Promise<S["Bucket"]> {
    return this.post("createBucket", "/buckets", input, opts);
  }
  retrieve(id: string, opts?: CallOptions): Promise<S["Bucket"]> {
    return this.one("getBucket", `/buckets/${seg(id)}`, opts);
  }
  list(q?: ListQuery<"listBuckets">): Paginator<S["Bucket"]> {
    return this.paginate("listBuckets", "/buckets", q);
  }
  /** delete removes an empty bucket, or with force its objects first. */
  async delete(id: string, q: { force?: boolean } & CallOptions = {}): Promise<void> {
    const { force, ...opts } = q;
    await this.t.call({ op: "deleteBucket", method: "DELETE", path: `/buckets/${seg(id)}`, query: { force: force === undefined ? undefined : String(force) }, ...opts });
  }
  rotateCredentials(id: string, opts: CallOptions = {}): Promise<S["Bucket"]> {
    return this.t.call({ op: "rotateBucketKeys", method: "POST", path: `/buckets/${seg(id)}/credentials/rotate`, ...opts });
  }
  /** presign returns a SigV4 URL for one GET or PUT of key; send its `headers` with it. */
  presign(id: string, input: Omit<Camel<S["PresignBucket"]>, "expiresIn" | "method"> & { method?: "GET" | "PUT"; expiresIn?: number }, opts: CallOptions = {}): Promise<S["PresignedURL"]> {
    return this.t.call({ op: "presignBucket", method: "POST", path: `/buckets/${seg(id)}/presign`, json: snake({ method: "GET", expiresIn: 900, ...input }), safe: true, ...opts });
  }
  link(id: string, target: Camel<S["CreateBucketLink"]>, opts?: CreateOptions): Promise<S["BucketLink"]> {
    return this.post("linkBucket", `/buckets/${seg(id)}/links`, target, opts);
  }
  links(id: string, opts: CallOptions = {}): Paginator<S["BucketLink"]> {
    return new Paginator<S["BucketLink"]>(this.t, "listBucketLinks", `/buckets/${seg(id)}/links`, {}, opts.signal);
  }
  async unlink(id: string, targetId: string, opts: CallOptions = {}): Promise<void> {
    await this.t.call({ op: "unlinkBucket", method: "DELETE", path: `/buckets/${seg(id)}/links/${seg(targetId)}`, ...opts });
  }
}

/** Cron jobs: scheduled HTTP requests or commands against a deployment. */
export class CronJobs extends Resource {
  create(input: Camel<S["CreateCronJob"]>, opts?: CreateOptions): Promise<S["CronJob"]> {
    return this.post("createCronJob", "/cron-jobs", input, opts);
  }
  retrieve(id: string, opts?: CallOptions): Promise<S["CronJob"]> {
    return this.one("getCronJob", `/cron-jobs/${seg(id)}`, opts);
  }
  list(q?: ListQuery<"listCronJobs">): Paginator<S["CronJob"]> {
    return this.paginate("listCronJobs", "/cron-jobs", q);
  }
  update(id: string, input: Camel<S["UpdateCronJob"]>, opts: CallOptions = {}): Promise<S["CronJob"]> {
    return this.t.call({ op: "updateCronJob", method: "PATCH", path: `/cron-jobs/${seg(id)}`, json: snake(input), ...opts });
  }
  async delete(id: string, opts: CallOptions = {}): Promise<void> {
    await this.t.call({ op: "deleteCronJob", method: "DELETE", path: `/cron-jobs/${seg(id)}`, ...opts });
  }
  /** trigger records a manual run, started within about a second. */
  trigger(id: string, opts: CreateOptions = {}): Promise<S["CronRun"]> {
    return this.t.call({ op: "triggerCronJob", method: "POST", path: `/cron-jobs/${seg(id)}/trigger`, idempotencyKey: opts.idempotencyKey ?? true, signal: opts.signal, timeoutMs: opts.timeoutMs });
  }
  /** @deprecated The API's first name of trigger (runCronJob); use trigger. */
  run(id: string, opts: CreateOptions = {}): Promise<S["CronRun"]> {
    return this.t.call({ op: "runCronJob", method: "POST", path: `/cron-jobs/${seg(id)}/run`, idempotencyKey: opts.idempotencyKey ?? true, signal: opts.signal, timeoutMs: opts.timeoutMs });
  }
  runs(id: string, q?: ListQuery<"listCronRuns">): Paginator<S["CronRun"]> {
    return this.paginate("listCronRuns", `/cron-jobs/${seg(id)}/runs`, q);
  }
  retrieveRun(id: string, runId: string, opts?: CallOptions): Promise<S["CronRun"]> {
    return this.one("getCronRun", `/cron-jobs/${seg(id)}/runs/${seg(runId)}`, opts);
  }
}

/** Custom domains of an org, a workspace or a deployment. */
export class Domains extends Resource {
  create(input: Camel<S["CreateDomain"]>, opts?: CreateOptions): Promise<S["Domain"]> {
    return this.post("createDomain", "/domains", input, opts);
  }
  retrieve(id: string, opts?: CallOptions): Promise<S["Domain"]> {
    return this.one("getDomain", `/domains/${seg(id)}`, opts);
  }
  list(q?: ListQuery<"listDomains">): Paginator<S["Domain"]> {
    return this.paginate("listDomains", "/domains", q);
  }
  async delete(id: string, opts: CallOptions = {}): Promise<void> {
    await this.t.call({ op: "deleteDomain", method: "DELETE", path: `/domains/${seg(id)}`, ...opts });
  }
  /** verify looks the domain's TXT record up now. */
  verify(id: string, opts: CallOptions = {}): Promise<S["Domain"]> {
    return this.t.call({ op: "verifyDomain", method: "POST", path: `/domains/${seg(id)}/verify`, safe: true, ...opts });
  }
}

/** The edge's route table. */
export class Routes extends Resource {
  /** resync republishes every route to the edges (platform key). */
  resync(opts: CallOptions = {}): Promise<S["RoutesResync"]> {
    return this.t.call({ op: "resyncRoutes", method: "POST", path: "/routes/resync", safe: true, ...opts });
  }
}
